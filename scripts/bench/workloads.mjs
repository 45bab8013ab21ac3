// The workloads of `pnpm bench` (issue 8): each returns bench.json entries, the default path (what
// the runner picks for that model and backend) first. Everything goes through the same code a run
// uses — the runner's plugin wiring and backend setup, core's train() and generateSamples(), the
// runner's sampling-path choice — so the numbers are what `diffusionlab run` gets.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { collectGarbage, measure, rssMB, timed } from './lib.mjs';

const quiet = { seed: 0, print: () => {}, interactive: false };

/** The seed example (examples/seed-1d.yaml) as a raw config object. */
function seedConfig(m, root) {
  return m.runner.readConfigFile(join(root, 'examples', 'seed-1d.yaml'));
}

/** 2-D moons with T = 1000, the usual toy setting; `denoiser` picks the network. */
function moonsConfig(denoiser, batchSize = 256) {
  return {
    name: 'bench-moons',
    seed: 1,
    dataset: { use: 'moons', size: 2000 },
    schedule: { use: 'linear', timesteps: 1000 },
    denoiser,
    training: { epochs: 1, batchSize, learningRate: 1e-3 },
    sampler: { use: 'ddpm' },
    evaluation: { samples: 2000, metrics: [] },
    reporters: [],
  };
}

/** Plugins, backend, data and a model factory for a raw config on one backend. */
export async function prepare(m, raw, backend) {
  const r = m.runner.resolveExperiment({ ...raw, backend }, m.runner.builtinRegistry(), 'bench');
  const plugins = await m.runner.instantiatePlugins(r, quiet);
  const built = { ...plugins, backend: await m.runner.activateBackend(r, plugins) };
  const rng = new m.core.Rng(r.experiment.seed);
  const trainingSet = await built.dataset.load(rng.fork('data'));
  const predictionType = r.experiment.training.predictionType;
  let inits = 0;
  // a conditional config builds the model with the dataset's classes, as the runner does
  const labelNames = r.experiment.conditioning?.enabled ? built.dataset.labelNames : undefined;
  const buildModel = () =>
    built.denoiser.build({
      dataShape: built.dataset.shape,
      schedule: built.schedule,
      predictionType,
      rng: rng.fork(`init${inits++}`),
      dataset: built.dataset,
      trainingSet,
      ...(labelNames ? { labelNames } : {}),
    });
  return { r, built, rng, trainingSet, predictionType, buildModel };
}

/**
 * Untimed warm-up steps before the timed ones in each train() call of a training workload: an
 * eighth of the timed steps, at least one (24 → 3, 48 → 6, 4000 → 500). The PyTorch twins
 * (scripts/bench/torch_twins.py, `warmup_steps`) take the same number by default.
 */
export function warmupSteps(steps) {
  return Math.max(1, Math.ceil(steps / 8));
}

/**
 * One training run on a fresh model: train() runs `warmup` + `steps` steps and only the last
 * `steps` are timed, from the moment step `warmup` completes to the moment the last step completes
 * (train()'s onProgress fires after every step), so the model build, the training path's setup
 * (fused trainer, wasm instance, worker threads) and the first steps' one-time costs are outside the
 * timer — what a long run's steady state gets. Returns steps/s (wall and CPU, all threads), the path
 * train() took, and tfjs's tensor count just before and after train() (the model alive in both).
 * `warmup: 0` times the whole train() call instead (setup included), for runs whose length is the
 * point (seed-train-32k-memory).
 */
export async function trainOnce(m, prep, steps, accelerator, warmup = warmupSteps(steps)) {
  const { r, built, trainingSet } = prep;
  const model = await prep.buildModel();
  const tensorsBefore = m.tf.memory().numTensors;
  const mark = () => ({ at: performance.now(), cpu: process.cpuUsage() });
  let from = warmup === 0 ? mark() : null;
  let to = null;
  const res = await m.core.train({
    model,
    trainingSet,
    shape: built.dataset.shape,
    schedule: built.schedule,
    config: { ...r.experiment.training, steps: warmup + steps, epochs: undefined },
    conditioning: r.experiment.conditioning,
    rng: prep.rng.fork('train'),
    accelerator,
    backend: built.backend.name,
    onProgress: (e) => {
      if (e.step === warmup) from = mark();
      else if (e.step === warmup + steps) to = mark();
    },
  });
  if (warmup === 0) to = mark();
  const tensorsAfter = m.tf.memory().numTensors;
  model.dispose();
  if (res.steps !== warmup + steps || !from || !to) throw new Error(`trainOnce: train() ran ${res.steps} steps, expected ${warmup} warm-up + ${steps} timed`);
  const seconds = (to.at - from.at) / 1000;
  const cpuSeconds = (to.cpu.user + to.cpu.system - from.cpu.user - from.cpu.system) / 1e6;
  return {
    rate: steps / seconds,
    cpuRate: steps / cpuSeconds,
    seconds,
    path: res.path,
    declined: res.acceleratorDeclined,
    tensorsBefore,
    tensorsAfter,
    warmupSteps: warmup,
    timedSteps: steps,
  };
}

/** What a training entry's figure times (bench.json): `steps` steps after `warmupSteps` untimed ones, per train() call. */
export function stepsTimed(steps, warmup = warmupSteps(steps)) {
  return { stepsPerRep: steps, timed: 'steps', warmupSteps: warmup };
}

/**
 * Training throughput rows for one model: `variants` are [backend, path, timed steps per rep] with
 * path `fused` (the kernels' accelerator), `tfjs+matmul-fix` or `tfjs` (tfjs's own matMul gradient).
 * Each rep is one train() call on a fresh model, its timed steps after {@link warmupSteps} untimed
 * ones (trainOnce); one untimed rep of a quarter of the steps comes first (process warm-up: JIT,
 * wasm tier-up).
 */
async function trainRows(m, { name, raw, variants, reps }) {
  const out = [];
  for (const [backend, path, steps] of variants) {
    const prep = await prepare(m, raw, backend);
    if (path === 'tfjs' && backend === 'wasm') m.kernels.uninstallMatMulGradientFix();
    const accelerator = path === 'fused' ? m.kernels.mlpTrainAccelerator : undefined;
    let took = '';
    let declined;
    const entry = await measure(m.tf, {
      name,
      backend,
      path,
      unit: 'steps/s',
      reps,
      once: async (r) => {
        const res = await trainOnce(m, prep, r < 0 ? Math.max(1, Math.ceil(steps / 4)) : steps, accelerator);
        took = res.path;
        declined = res.declined;
        return { value: res.rate, cpuValue: res.cpuRate };
      },
    });
    if (path === 'tfjs' && backend === 'wasm') m.kernels.installMatMulGradientFix();
    if (path === 'fused' && !took.startsWith('fused')) throw new Error(`${name}: the fused path was declined: ${declined}`);
    if (path !== 'fused' && took !== 'tfjs') throw new Error(`${name}: expected the tfjs path, train() took ${took}`);
    out.push({ ...entry, ...stepsTimed(steps) });
  }
  return out;
}

/**
 * Sampling time rows: `variants` are [backend, path] with path `fused-ddpm` (the whole loop in the
 * kernels, threads as the runner picks them), `fused-ddpm-1thread`, `fused-ddpm-2threads`,
 * `fused-forward` (the fused forward inside the sampler's tfjs loop) or `tfjs`. The first variant
 * should be the runner's default.
 */
async function sampleRows(m, { name, raw, sampler, n, variants, reps }) {
  const out = [];
  for (const [backend, path] of variants) {
    const prep = await prepare(m, { ...raw, sampler }, backend);
    const { built } = prep;
    const model = await prep.buildModel();
    const choose = () => {
      if (path === 'fused-forward') {
        const f = m.kernels.createFusedPredictModel(model, { residual: true, unet: true });
        if (typeof f === 'string') throw new Error(`${name}: ${f}`);
        return { path: f.path, model: f, dispose: () => f.dispose() };
      }
      return m.runner.chooseSamplingPath({
        model,
        backend: built.backend.name,
        accelerate: path !== 'tfjs',
        sampler: built.sampler,
        schedule: built.schedule,
        predictionType: prep.predictionType,
        batch: n,
        threads: path === 'fused-ddpm-1thread' ? 1 : path === 'fused-ddpm-2threads' ? 2 : undefined,
      });
    };
    let took = '';
    let threads;
    const entry = await measure(m.tf, {
      name,
      backend,
      path,
      unit: 's',
      reps,
      once: async (rep) => {
        const p = choose();
        took = p.path;
        threads = p.threads;
        const { seconds, cpuSeconds } = await timed(() =>
          m.core.generateSamples({
            model: p.model,
            sampler: built.sampler,
            schedule: built.schedule,
            predictionType: prep.predictionType,
            shape: built.dataset.shape,
            n: rep < 0 ? Math.min(n, 100) : n,
            steps: p.steps,
            rng: prep.rng.fork(`sample${rep}`),
            trajectorySnapshots: 0,
            loop: p.loop,
          }),
        );
        p.dispose();
        return { value: seconds, cpuValue: cpuSeconds };
      },
    });
    model.dispose();
    const fusedForward = [m.kernels.FUSED_MLP_PATH, m.kernels.FUSED_UNET_PREDICT_PATH];
    const want = path.startsWith('fused-ddpm') ? [m.runner.FUSED_DDPM_PATH] : path === 'fused-forward' ? fusedForward : ['tfjs'];
    if (!want.includes(took)) throw new Error(`${name}: expected sampling path ${want.join(' or ')}, got ${took}`);
    out.push({
      ...entry,
      ...(threads ? { threads, ...(path === 'fused-ddpm' ? { note: `${threads} thread${threads > 1 ? 's' : ''} (load average ${loadavg()[0].toFixed(2)})` } : {}) } : {}),
    });
  }
  return out;
}

/**
 * The `tensorflow` (@tensorflow/tfjs-node) variants of a workload, present only when tfjs-node loads
 * (`o.tensorflow`; see docs/tfjs-node-from-wheel.md to build it without internet). Each workload puts
 * its default first, the path `backend: auto` takes: a fused path wherever the kernels train the model
 * (apps/runner/src/auto-backend.ts), with the tensorflow row right after it.
 */
function tensorflowRows(o, variants) {
  return o.tensorflow ? variants : [];
}

/** The GEMM cases; they live with the kernels (packages/kernels/bench/gemm.mjs, also runnable alone). */
function importGemm(root) {
  return import(pathToFileURL(join(root, 'packages', 'kernels', 'bench', 'gemm.mjs')).href);
}

/** Products per timed repetition of a GEMM shape. */
function gemmIters(g, macs, o) {
  return g.itersFor(macs, o.quick ? 0.02 : 0.05);
}

/**
 * Timed steps per repetition of each training workload's default path; the PyTorch twin times as
 * many, after as many warm-up steps ({@link warmupSteps}: its default for `--steps`).
 */
const defaultSteps = {
  'seed-train': (o) => (o.quick ? 1000 : 4000),
  'unet-train': (o) => (o.quick ? 8 : 24),
  'unet-train-16': (o) => (o.quick ? 16 : 48),
};

/**
 * Every workload: `run(m, opts)` returns its bench.json entries; `notes` are printed lines. `twin`,
 * where PyTorch has a meaningful twin (scripts/bench/torch_twins.py, run by `--compare`), gives
 * `{ workload, args }` for that script from the options: the same shapes, batch and steps as ours.
 */
export const workloads = [
  {
    name: 'seed-train',
    what: 'seed MLP (17k params), batch 32, Adam — steps/s',
    run: (m, o) =>
      trainRows(m, {
        name: 'seed-train',
        raw: seedConfig(m, o.root),
        reps: o.reps,
        variants: [
          ['wasm', 'fused', defaultSteps['seed-train'](o)],
          ...tensorflowRows(o, [
            ['tensorflow', 'fused', defaultSteps['seed-train'](o)],
            ['tensorflow', 'tfjs', o.quick ? 100 : 400],
          ]),
          ['wasm', 'tfjs+matmul-fix', o.quick ? 100 : 400],
          ['wasm', 'tfjs', o.quick ? 100 : 250],
          ['cpu', 'tfjs', o.quick ? 30 : 150],
        ],
      }),
    twin: (o) => ({ workload: 'seed-train', args: ['--steps', String(defaultSteps['seed-train'](o))] }),
  },
  {
    name: 'seed-sample',
    what: 'seed MLP, 1000 samples × 100 DDPM steps — seconds',
    run: (m, o) =>
      sampleRows(m, {
        name: 'seed-sample',
        raw: seedConfig(m, o.root),
        sampler: { use: 'ddpm' },
        n: 1000,
        reps: o.reps,
        variants: [
          ['wasm', 'fused-ddpm'],
          ...tensorflowRows(o, [['tensorflow', 'tfjs']]),
          ['wasm', 'fused-ddpm-1thread'],
          ['wasm', 'fused-ddpm-2threads'],
          ['wasm', 'fused-forward'],
          ['wasm', 'tfjs'],
          ...(o.quick ? [] : [['cpu', 'tfjs']]),
        ],
      }),
    twin: () => ({ workload: 'seed-sample', args: ['--samples', '1000'] }),
  },
  {
    name: 'cond-train',
    what: 'seed data and batch (32), `mlp` width 64 depth 1 (≈17k params): class-conditional (2 classes + null, dropout 0.1) against unconditional, both fused — steps/s (issue 19: conditional ≥ 80%)',
    run: async (m, o) => {
      const steps = o.quick ? 1000 : 4000;
      const raw = (conditional) => ({
        ...seedConfig(m, o.root),
        denoiser: { use: 'mlp', width: 64, depth: 1, timeEmbedding: 64 },
        ...(conditional ? { conditioning: { enabled: true, dropout: 0.1 } } : {}),
      });
      const cond = await prepare(m, raw(true), 'wasm');
      const uncond = await prepare(m, raw(false), 'wasm');
      const fused = m.kernels.mlpTrainAccelerator;
      // The two alternate rep by rep (each warmed up first, the order flipping every rep), so a
      // change of load or the wasm tier-up during the run does not favour one of them.
      const once = async (prep, label, n) => {
        const res = await trainOnce(m, prep, n, fused);
        if (!res.path.startsWith('fused')) throw new Error(`cond-train: the ${label} model was declined: ${res.declined}`);
        return { value: res.rate, cpuValue: res.cpuRate };
      };
      const warm = Math.ceil(steps / 4);
      await once(uncond, 'unconditional', warm);
      await once(cond, 'conditional', warm);
      const uncondReps = [];
      const condEntry = await measure(m.tf, {
        name: 'cond-train:conditional',
        backend: 'wasm',
        path: 'fused',
        unit: 'steps/s',
        reps: o.reps,
        warmup: 0,
        once: async (r) => {
          if (r % 2 === 0) uncondReps.push(await once(uncond, 'unconditional', steps));
          const c = await once(cond, 'conditional', steps);
          if (r % 2 === 1) uncondReps.push(await once(uncond, 'unconditional', steps));
          return c;
        },
      });
      const uncondEntry = await measure(m.tf, {
        name: 'cond-train:unconditional',
        backend: 'wasm',
        path: 'fused',
        unit: 'steps/s',
        reps: o.reps,
        warmup: 0,
        once: async (r) => uncondReps[r],
      });
      const ratio = condEntry.median / uncondEntry.median;
      const cpuRatio = condEntry.cpuMedian / uncondEntry.cpuMedian;
      return [
        { ...condEntry, ...stepsTimed(steps) },
        { ...uncondEntry, ...stepsTimed(steps), note: `conditional/unconditional = ${ratio.toFixed(3)} (medians), ${cpuRatio.toFixed(3)} per CPU-second` },
      ];
    },
  },
  {
    name: 'mlp-train-256',
    what: '`mlp` denoiser (width 128, depth 3; residual, fused or tfjs) on 2-D moons, batch 256 — steps/s',
    run: (m, o) =>
      trainRows(m, {
        name: 'mlp-train-256',
        raw: moonsConfig({ use: 'mlp' }),
        reps: o.reps,
        variants: [
          ['wasm', 'fused', o.quick ? 100 : 400],
          ...tensorflowRows(o, [
            ['tensorflow', 'fused', o.quick ? 100 : 400],
            ['tensorflow', 'tfjs', o.quick ? 8 : 40],
          ]),
          ['wasm', 'tfjs+matmul-fix', o.quick ? 8 : 40],
          ['wasm', 'tfjs', o.quick ? 4 : 20],
          ['cpu', 'tfjs', o.quick ? 2 : 5],
        ],
      }),
  },
  {
    name: 'moons-sample',
    what: 'seed-mlp architecture on 2-D moons (T = 1000), 2000 samples: ddpm 1000 steps and dpmpp-2m 20 steps — seconds',
    run: async (m, o) => [
      ...(await sampleRows(m, {
        name: 'moons-sample:ddpm-1000',
        raw: moonsConfig({ use: 'seed-mlp', hidden: 128 }),
        sampler: { use: 'ddpm' },
        n: 2000,
        reps: o.reps,
        variants: [['wasm', 'fused-ddpm'], ...tensorflowRows(o, [['tensorflow', 'tfjs']]), ['wasm', 'tfjs']],
      })),
      ...(await sampleRows(m, {
        name: 'moons-sample:dpmpp-2m-20',
        raw: moonsConfig({ use: 'seed-mlp', hidden: 128 }),
        sampler: { use: 'dpmpp-2m', steps: 20 },
        n: 2000,
        reps: o.reps,
        variants: [['wasm', 'fused-forward'], ...tensorflowRows(o, [['tensorflow', 'tfjs']]), ['wasm', 'tfjs'], ['cpu', 'tfjs']],
      })),
    ],
    notes: ['moons-sample:ddpm-1000 on cpu: skipped (about a minute per repetition on the cpu backend)'],
  },
  {
    name: 'unet-train',
    what: 'unet (channels 32, [1, 2]) on 14×14 digits, batch 32 — steps/s',
    run: (m, o) =>
      trainRows(m, {
        name: 'unet-train',
        raw: {
          name: 'bench-unet',
          seed: 1,
          dataset: { use: 'digits', resolution: 14, size: 512 },
          schedule: { use: 'linear', timesteps: 1000 },
          denoiser: { use: 'unet' },
          training: { epochs: 1, batchSize: 32, learningRate: 2e-4 },
          sampler: { use: 'ddim', steps: 10 },
          evaluation: { samples: 16, metrics: [] },
          reporters: [],
        },
        reps: o.reps,
        variants: [
          ['wasm', 'fused', defaultSteps['unet-train'](o)],
          ...tensorflowRows(o, [['tensorflow', 'tfjs', o.quick ? 2 : 4]]),
          ['wasm', 'tfjs+matmul-fix', o.quick ? 2 : 4],
          ['cpu', 'tfjs', 1],
        ],
      }),
    twin: (o) => ({ workload: 'unet-train', args: ['--steps', String(defaultSteps['unet-train'](o))] }),
  },
  {
    name: 'unet-train-16',
    what: 'unet (channels 16, [1, 2]) on 14×14 digits, batch 32 — steps/s (the fused conv kernels beside tfjs)',
    run: (m, o) =>
      trainRows(m, {
        name: 'unet-train-16',
        raw: {
          name: 'bench-unet-16',
          seed: 1,
          dataset: { use: 'digits', resolution: 14, size: 512 },
          schedule: { use: 'linear', timesteps: 1000 },
          denoiser: { use: 'unet', channels: 16 },
          training: { epochs: 1, batchSize: 32, learningRate: 2e-4 },
          sampler: { use: 'ddim', steps: 10 },
          evaluation: { samples: 16, metrics: [] },
          reporters: [],
        },
        reps: o.reps,
        variants: [
          ['wasm', 'fused', defaultSteps['unet-train-16'](o)],
          ...tensorflowRows(o, [['tensorflow', 'tfjs', o.quick ? 4 : 8]]),
          ['wasm', 'tfjs+matmul-fix', o.quick ? 4 : 8],
        ],
      }),
    twin: (o) => ({ workload: 'unet-train-16', args: ['--steps', String(defaultSteps['unet-train-16'](o))] }),
  },
  ...[32, 16].map((channels) => ({
    name: channels === 32 ? 'unet-train-2t' : 'unet-train-16-2t',
    what: `unet (channels ${channels}, [1, 2]) on 14×14 digits, batch 32, training.threads 2 — steps/s (the fused step's rows split over two threads; compare with ${channels === 32 ? 'unet-train' : 'unet-train-16'}'s fused row)`,
    run: (m, o) =>
      trainRows(m, {
        name: channels === 32 ? 'unet-train-2t' : 'unet-train-16-2t',
        raw: {
          name: `bench-unet-${channels}-2t`,
          seed: 1,
          dataset: { use: 'digits', resolution: 14, size: 512 },
          schedule: { use: 'linear', timesteps: 1000 },
          denoiser: { use: 'unet', channels },
          training: { epochs: 1, batchSize: 32, learningRate: 2e-4, threads: 2 },
          sampler: { use: 'ddim', steps: 10 },
          evaluation: { samples: 16, metrics: [] },
          reporters: [],
        },
        reps: o.reps,
        variants: [['wasm', 'fused', (o.quick ? 8 : 24) * (channels === 32 ? 1 : 2)]],
      }),
  })),
  {
    name: 'unet-sample',
    what: 'unet (channels 16, [1, 2]) on 14×14 digits, 100 images: dpmpp-2m 25 steps — seconds (the fused forward pass beside tfjs)',
    run: (m, o) =>
      sampleRows(m, {
        name: 'unet-sample:dpmpp-2m-25',
        raw: {
          name: 'bench-unet-sample',
          seed: 1,
          dataset: { use: 'digits', resolution: 14, size: 512 },
          schedule: { use: 'linear', timesteps: 1000 },
          denoiser: { use: 'unet', channels: 16 },
          training: { steps: 1, batchSize: 32 },
          evaluation: { samples: 100, metrics: [] },
          reporters: [],
        },
        sampler: { use: 'dpmpp-2m', steps: 25 },
        n: 100,
        reps: o.reps,
        variants: [['wasm', 'fused-forward'], ...tensorflowRows(o, [['tensorflow', 'tfjs']]), ['wasm', 'tfjs']],
      }),
    twin: () => ({ workload: 'unet-sample', args: ['--samples', '100'] }),
    notes: ['unet-sample with ddpm (1000 steps): not measured here (about 36 s per repetition fused); it runs the same forward pass 40× as often'],
  },
  {
    name: 'gemm',
    what: 'the kernels’ 4×8 GEMM micro-kernel against XNNPACK’s matMul (tfjs wasm) on MLP and im2col shapes — GMAC/s',
    run: async (m, o) => {
      const g = await importGemm(o.root);
      await m.runner.setupBackend('wasm');
      const rows = [];
      const cases = g.gemmCases(m.tf);
      // V8 runs a wasm function in its baseline tier until the optimising compile is done: warm all first
      for (const c of cases) c.kernels(g.itersFor(c.macs, 0.05));
      for (const c of cases) {
        const iters = gemmIters(g, c.macs, o);
        const rate = (t) => ({ value: (c.macs * iters) / t.seconds / 1e9, cpuValue: (c.macs * iters) / t.cpuSeconds / 1e9 });
        const kernels = await measure(m.tf, {
          name: 'gemm',
          backend: 'wasm',
          path: `kernels ${c.label}`,
          unit: 'GMAC/s',
          reps: o.reps,
          warmup: 4,
          once: async () => rate(g.timeIt(() => c.kernels(iters))),
          note: c.use,
        });
        const xnnpack = await measure(m.tf, {
          name: 'gemm',
          backend: 'wasm',
          path: `xnnpack ${c.label}`,
          unit: 'GMAC/s',
          reps: o.reps,
          warmup: 2,
          once: async () => rate(g.timeIt(() => c.xnnpack(iters))),
        });
        c.dispose();
        rows.push(kernels, { ...xnnpack, note: `kernels ÷ xnnpack: ${(kernels.cpuMedian / xnnpack.cpuMedian).toFixed(2)} per CPU-second` });
      }
      return rows;
    },
    // torch.matmul at the same shapes and iterations (torch.addmm with the bias for NN)
    twin: async (o) => {
      const g = await importGemm(o.root);
      const cases = g.GEMM_SHAPES.map((s) => ({ label: g.shapeLabel(s), op: s.op, M: s.M, K: s.K, N: s.N, iters: gemmIters(g, s.M * s.K * s.N, o) }));
      return { workload: 'gemm', args: ['--cases', JSON.stringify(cases)] };
    },
    notes: [
      'one thread; per CPU-second is the single-thread speed on a loaded machine. xnnpack: tf.fused.matMul (NN, with the bias) or tf.matMul of pre-transposed operands (NT, TN)',
    ],
  },
  {
    name: 'seed-train-32k-memory',
    what: 'the seed example’s full 32,000-step training (default path), and 3,200 steps on tfjs: tensors and RSS before and after',
    run: async (m, o) => {
      const rows = [];
      for (const [path, steps] of [
        ['fused', o.quick ? 3200 : 32000],
        ['tfjs+matmul-fix', o.quick ? 320 : 3200],
      ]) {
        const prep = await prepare(m, seedConfig(m, o.root), 'wasm');
        const accelerator = path === 'fused' ? m.kernels.mlpTrainAccelerator : undefined;
        await trainOnce(m, prep, 200, accelerator, 0); // warm-up: one-time tensors and JIT
        collectGarbage();
        const rssBefore = rssMB();
        // the whole train() call of the example's length is timed here (warm-up 0): the run is the point, not its rate
        const res = await trainOnce(m, prep, steps, accelerator, 0);
        collectGarbage();
        const rssAfter = rssMB();
        rows.push({
          name: 'seed-train-32k-memory',
          backend: 'wasm',
          path: res.path.startsWith('fused') ? 'fused' : res.path === 'tfjs' ? 'tfjs+matmul-fix' : res.path,
          unit: 'steps/s',
          median: res.rate,
          min: res.rate,
          max: res.rate,
          // the model is alive at both readings: a flat count means no step leaked a tensor
          numTensorsBefore: res.tensorsBefore,
          numTensorsAfter: res.tensorsAfter,
          reps: 1,
          cpuMedian: +res.cpuRate.toPrecision(5),
          steps,
          timed: 'train() call',
          rssBeforeMB: +rssBefore.toFixed(1),
          rssAfterMB: +rssAfter.toFixed(1),
          note: `${steps} steps; numTensors ${res.tensorsBefore} → ${res.tensorsAfter}; RSS ${rssBefore.toFixed(1)} → ${rssAfter.toFixed(1)} MB`,
        });
      }
      return rows;
    },
  },
];
