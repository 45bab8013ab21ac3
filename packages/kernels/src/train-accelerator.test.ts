import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, scheduleFromBetas, train, trainingSchema } from '@diffusionlab/core';
import type { AcceleratorTrainOptions } from './fused-adam.js';
import { createFusedPredictModel } from './fused-model.js';
import { createFusedMlpTrainer, createFusedTrainer, FusedMlpTrainer, mlpTrainAccelerator } from './train-accelerator.js';
import { type Act, asModel, disposeMlp, makeMlp, randomBatch, referenceForward } from './test/mlp-fixture.js';
import { maxAbs, maxAbsDiff } from './test/compare.js';

const ADAM: AcceleratorTrainOptions = { optimizer: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, backend: 'cpu' };
const SEED_WIDTHS = [2, 128, 128, 1];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** tfjs reference loss and gradients (tf.variableGrads) for one batch. */
function referenceGrads(d: ReturnType<typeof makeMlp>, batch: ReturnType<typeof randomBatch>, D: number) {
  return tf.tidy(() => {
    const n = batch.size;
    const xt = tf.tensor2d(batch.xt, [n, D]);
    const t = tf.tensor1d(batch.t);
    const target = tf.tensor2d(batch.target, [n, D]);
    const vars = d.layers.flatMap((l) => [l.kernel, l.bias]);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(referenceForward(d, xt, t), target)) as tf.Scalar, vars);
    return { loss: value.dataSync()[0], grads: d.layers.map((l) => ({ kernel: grads[l.kernel.name].dataSync(), bias: grads[l.bias.name].dataSync() })) };
  });
}

function trainer(d: ReturnType<typeof makeMlp>, opts: Partial<AcceleratorTrainOptions> = {}): FusedMlpTrainer {
  const made = createFusedMlpTrainer(d, { ...ADAM, ...opts });
  if (typeof made === 'string') throw new Error(made);
  return made;
}

describe('fused MLP gradients match tf.variableGrads', () => {
  const cases: { name: string; widths: number[]; act: Act; n: number }[] = [
    { name: 'seed MLP (silu, batch 32)', widths: SEED_WIDTHS, act: 'silu', n: 32 },
    { name: 'odd sizes, silu, D=2', widths: [3, 20, 13, 2], act: 'silu', n: 7 },
    { name: 'relu, D=3', widths: [4, 24, 9, 3], act: 'relu', n: 13 },
    { name: 'tanh, D=2', widths: [3, 16, 16, 16, 2], act: 'tanh', n: 10 },
    { name: 'gelu, D=2', widths: [3, 32, 8, 2], act: 'gelu', n: 6 },
    { name: 'single layer', widths: [2, 1], act: 'silu', n: 5 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = makeMlp(c.widths, c.act, 11);
      const D = c.widths[c.widths.length - 1];
      const batch = randomBatch(c.n, D, new Rng(5));
      const ref = referenceGrads(d, batch, D);
      const tr = trainer(d);
      const loss = tr.computeGradients(batch);
      expect(Math.abs(loss - ref.loss)).toBeLessThan(1e-6 * Math.max(1, ref.loss));
      const got = tr.readGradients();
      got.forEach((g, l) => {
        // 1e-5 on the gradient's own scale (raw t up to 99 makes first-layer entries large)
        expect(maxAbsDiff(g.kernel, ref.grads[l].kernel)).toBeLessThan(1e-5 * Math.max(1, maxAbs(ref.grads[l].kernel)));
        expect(maxAbsDiff(g.bias, ref.grads[l].bias)).toBeLessThan(1e-5 * Math.max(1, maxAbs(ref.grads[l].bias)));
      });
      tr.dispose();
      disposeMlp(d);
    });
  }
});

/** The plain tfjs Adam(W) loop core's train() runs, on the cpu backend: per-step losses. */
function referenceRun(d: ReturnType<typeof makeMlp>, batches: ReturnType<typeof randomBatch>[], D: number, opts: AcceleratorTrainOptions): number[] {
  const optimizer = tf.train.adam(opts.learningRate, opts.beta1, opts.beta2, opts.epsilon);
  const vars = d.layers.flatMap((l) => [l.kernel, l.bias]);
  const losses: number[] = [];
  for (const b of batches) {
    const loss = tf.tidy(() => {
      const xt = tf.tensor2d(b.xt, [b.size, D]);
      const t = tf.tensor1d(b.t);
      const target = tf.tensor2d(b.target, [b.size, D]);
      const f = () => tf.mean(tf.squaredDifference(referenceForward(d, xt, t), target)) as tf.Scalar;
      const { value, grads } = optimizer.computeGradients(f, vars);
      let g = grads;
      if (opts.gradClipNorm !== undefined) {
        const names = Object.keys(grads);
        const norm = tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k])))));
        const scale = tf.minimum(1, tf.div(opts.gradClipNorm, tf.add(norm, 1e-6)));
        g = Object.fromEntries(names.map((k) => [k, tf.mul(grads[k], scale)]));
      }
      if (opts.weightDecay > 0) for (const v of vars) v.assign(tf.mul(v, 1 - opts.learningRate * opts.weightDecay));
      optimizer.applyGradients(g);
      return value.dataSync()[0];
    });
    losses.push(loss);
  }
  optimizer.dispose();
  return losses;
}

/** Batches from a two-Gaussian mixture as DDPM's forward process makes them (the seed data). */
function seedBatches(count: number, n: number, seed: number) {
  const rng = new Rng(seed);
  const s = scheduleFromBetas(
    'linear',
    Float64Array.from({ length: 100 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 99),
  );
  return Array.from({ length: count }, () => {
    const xt = new Float32Array(n);
    const t = new Float32Array(n);
    const target = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const ti = rng.int(100);
      const x0 = (rng.uniform() < 0.5 ? -2 : 2) + 0.5 * rng.normal();
      const e = rng.normal();
      t[i] = ti;
      xt[i] = Math.sqrt(s.alphasCumprod[ti]) * x0 + Math.sqrt(1 - s.alphasCumprod[ti]) * e;
      target[i] = e;
    }
    return { xt, t, target, size: n };
  });
}

function fusedRun(d: ReturnType<typeof makeMlp>, batches: ReturnType<typeof randomBatch>[], opts: AcceleratorTrainOptions): { losses: number[]; tr: FusedMlpTrainer } {
  const tr = trainer(d, opts);
  const losses = batches.map((b) => {
    tr.step(b);
    return tr.takeLossSum();
  });
  return { losses, tr };
}

function expectCurvesClose(fused: number[], ref: number[], rel: number) {
  expect(fused.length).toBe(ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(fused[i] - ref[i]) / Math.abs(ref[i]));
  expect(worst).toBeLessThan(rel);
}

describe('fused Adam matches the plain tfjs loop', () => {
  it('200 steps of the seed MLP: loss curve within 1e-3 relative; final weights close', () => {
    const batches = seedBatches(200, 32, 3);
    const a = makeMlp(SEED_WIDTHS, 'silu', 21);
    const b = makeMlp(SEED_WIDTHS, 'silu', 21);
    const ref = referenceRun(a, batches, 1, ADAM);
    const { losses, tr } = fusedRun(b, batches, ADAM);
    expect(losses[199]).toBeLessThan(losses[0]); // it trains
    expectCurvesClose(losses, ref, 1e-3);
    const w = tr.weights();
    a.layers.forEach((l, i) => expect(maxAbsDiff(w[i].kernel, l.kernel.dataSync())).toBeLessThan(1e-3));
    tr.dispose();
    disposeMlp(a);
    disposeMlp(b);
  });

  it('AdamW (decoupled decay before the update) and gradient clipping', () => {
    const opts = { ...ADAM, optimizer: 'adamw' as const, weightDecay: 0.5, learningRate: 3e-3, gradClipNorm: 0.5 };
    // 2-D rows [16, 2] from 32 one-dimensional draws (row i pairs draws i and 16 + i)
    const two = seedBatches(60, 32, 4).map((b) => {
      const xt = new Float32Array(32);
      const target = new Float32Array(32);
      for (let i = 0; i < 16; i++) {
        xt[2 * i] = b.xt[i];
        xt[2 * i + 1] = b.xt[16 + i];
        target[2 * i] = b.target[i];
        target[2 * i + 1] = b.target[16 + i];
      }
      // t scaled to [0, 1): raw t up to 99 amplifies float32 noise chaotically over many steps,
      // which would test the conditioning of the seed network rather than the optimiser's math
      return { xt, t: b.t.subarray(0, 16).map((v) => v / 100), target, size: 16 };
    });
    const a = makeMlp([3, 32, 32, 2], 'silu', 8);
    const b = makeMlp([3, 32, 32, 2], 'silu', 8);
    const ref = referenceRun(a, two, 2, opts);
    const { losses, tr } = fusedRun(b, two, opts);
    expectCurvesClose(losses, ref, 1e-3);
    const w = tr.weights();
    a.layers.forEach((l, i) => expect(maxAbsDiff(w[i].kernel, l.kernel.dataSync())).toBeLessThan(1e-4));
    // the decay acted: without it the weights differ by far more than the tolerance
    const c = makeMlp([3, 32, 32, 2], 'silu', 8);
    const noDecay = fusedRun(c, two, { ...opts, optimizer: 'adam', weightDecay: 0 }).tr.weights();
    expect(maxAbsDiff(noDecay[1].kernel, w[1].kernel)).toBeGreaterThan(1e-3);
    // and the clipping acted
    const e = makeMlp([3, 32, 32, 2], 'silu', 8);
    const noClip = fusedRun(e, two, { ...opts, gradClipNorm: undefined }).losses;
    expect(Math.max(...noClip.map((l, i) => Math.abs(l - losses[i]) / losses[i]))).toBeGreaterThan(1e-2);
    tr.dispose();
    [a, b, c, e].forEach(disposeMlp);
  });
});

describe('trainer lifecycle', () => {
  it('syncToModel writes exactly the kernel weights; no tensors leak', () => {
    const d = makeMlp([3, 12, 2], 'tanh', 2);
    const before = tf.memory().numTensors;
    const tr = trainer(d);
    const rng = new Rng(1);
    for (let i = 0; i < 5; i++) tr.step(randomBatch(i === 4 ? 3 : 9, 2, rng)); // a short last batch too
    const w = tr.weights();
    expect(maxAbsDiff(w[0].kernel, d.layers[0].kernel.dataSync())).toBeGreaterThan(0); // not yet synced
    tr.syncToModel();
    d.layers.forEach((l, i) => {
      expect(Array.from(l.kernel.dataSync())).toEqual(Array.from(w[i].kernel));
      expect(Array.from(l.bias.dataSync())).toEqual(Array.from(w[i].bias));
    });
    expect(tr.takeLossSum()).toBeGreaterThan(0);
    expect(tr.takeLossSum()).toBe(0);
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => tr.step(randomBatch(2, 2, rng))).toThrow(/dispose/);
    disposeMlp(d);
  });

  it('grows its buffers for a larger batch than the first', () => {
    const d = makeMlp([2, 8, 1], 'silu', 3);
    const tr = trainer(d);
    const rng = new Rng(9);
    tr.computeGradients(randomBatch(4, 1, rng));
    const big = randomBatch(100, 1, rng);
    tr.computeGradients(big);
    const ref = referenceGrads(d, big, 1);
    expect(maxAbsDiff(tr.readGradients()[0].kernel, ref.grads[0].kernel)).toBeLessThan(1e-5 * Math.max(1, maxAbs(ref.grads[0].kernel)));
    disposeMlp(d);
  });
});

describe('declines what it does not run', () => {
  const d = () => makeMlp([2, 4, 1], 'silu', 1);
  it('non-plain models, other inputs, activations, shapes and optimisers', () => {
    const m = d();
    expect(createFusedTrainer(asModel(m, false), ADAM)).toMatch(/not a plain MLP/);
    expect(createFusedTrainer({ ...asModel(m), describe: () => null }, ADAM)).toMatch(/does not describe/);
    expect(createFusedMlpTrainer({ ...m, input: 'embedded-t' as 'concat-raw-t' }, ADAM)).toMatch(/input/);
    expect(createFusedMlpTrainer({ ...m, activation: 'elu' as 'silu' }, ADAM)).toMatch(/activation 'elu'/);
    expect(createFusedMlpTrainer({ ...m, layers: [m.layers[1], m.layers[0]] }, ADAM)).toMatch(/layer 1 takes/);
    expect(createFusedMlpTrainer({ ...m, layers: [m.layers[0]] }, ADAM)).toMatch(/output width 4/);
    expect(createFusedMlpTrainer(m, { ...ADAM, optimizer: 'sgd' as 'adam' })).toMatch(/optimizer 'sgd'/);
    expect(createFusedMlpTrainer(m, { ...ADAM, gradClipNorm: 0 })).toMatch(/gradClipNorm/);
    expect(createFusedTrainer(asModel(m), ADAM)).toBeInstanceOf(FusedMlpTrainer);
    disposeMlp(m);
  });

  it('class-conditional models, even one that describes a plain MLP: trained or sampled without labels they would be wrong', async () => {
    const m = d();
    const conditional = { ...asModel(m), labelNames: ['a', 'b'] };
    expect(createFusedTrainer(conditional, ADAM)).toMatch(/class-conditional \(2 classes\)/);
    expect(createFusedPredictModel(conditional, { residual: true })).toMatch(/class-conditional/);
    const data = Float32Array.from({ length: 32 }, (_, i) => (i % 2 ? 2 : -2));
    const labels = Int32Array.from({ length: 32 }, (_, i) => i % 2);
    const schedule = scheduleFromBetas(
      'linear',
      Float64Array.from({ length: 10 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 9),
    );
    const r = await train({
      model: conditional,
      trainingSet: { data, count: 32, labels },
      shape: [1],
      schedule,
      config: { epochs: 1 },
      rng: new Rng(5),
      accelerator: mlpTrainAccelerator,
    });
    expect(r.path).toBe('tfjs');
    expect(r.acceleratorDeclined).toMatch(/class-conditional/);
    disposeMlp(m);
  });
});

describe("core's train() with the accelerator", () => {
  it('declines loss weighting with the reason (the tfjs path runs it), and is not tried with accelerate: false', async () => {
    const data = Float32Array.from({ length: 64 }, (_, i) => (i % 2 ? 2 : -2));
    const schedule = scheduleFromBetas(
      'linear',
      Float64Array.from({ length: 10 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 9),
    );
    const m = asModel(makeMlp([2, 8, 1], 'silu', 34));
    const before = tf.memory().numTensors;
    const go = (config: Parameters<typeof train>[0]['config']) =>
      train({ model: m, trainingSet: { data, count: 64 }, shape: [1], schedule, config: { epochs: 1, ...config }, rng: new Rng(5), accelerator: mlpTrainAccelerator });
    const weighted = await go({ lossWeighting: 'min-snr' });
    expect(weighted.path).toBe('tfjs');
    expect(weighted.acceleratorDeclined).toMatch(/loss weighting/);
    const off = await go({ accelerate: false });
    expect(off.path).toBe('tfjs');
    expect(off.acceleratorDeclined).toBeUndefined();
    expect((await go({})).path).toBe('fused:wasm-simd-mlp');
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('runs the fused path and follows the plain path’s loss history', async () => {
    const rng = new Rng(77);
    const data = Float32Array.from({ length: 256 }, (_, i) => (i % 2 ? 2 : -2) + 0.5 * rng.normal());
    const schedule = scheduleFromBetas(
      'linear',
      Float64Array.from({ length: 100 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 99),
    );
    const config = { epochs: 6, batchSize: 32, learningRate: 1e-3, predictionType: 'epsilon' as const, logEvery: 100, epsilon: 1e-8 };
    const run = async (accelerate: boolean) => {
      const m = asModel(makeMlp(SEED_WIDTHS, 'silu', 31));
      const before = tf.memory().numTensors;
      const r = await train({
        model: m,
        trainingSet: { data, count: 256 },
        shape: [1],
        schedule,
        config,
        rng: new Rng(1),
        accelerator: accelerate ? mlpTrainAccelerator : undefined,
      });
      expect(tf.memory().numTensors).toBe(before);
      const w = m.variables[2].dataSync().slice();
      m.dispose();
      return { r, w };
    };
    const fused = await run(true);
    const plain = await run(false);
    expect(fused.r.path).toBe('fused:wasm-simd-mlp');
    expect(plain.r.path).toBe('tfjs');
    expectCurvesClose(
      fused.r.lossHistory.map((h) => h.loss),
      plain.r.lossHistory.map((h) => h.loss),
      1e-3,
    );
    expect(maxAbsDiff(fused.w, plain.w)).toBeLessThan(1e-3);
  });

  it('runs training.objective flow (the same MSE on core’s flow batch) and follows the plain path; declines an objective it does not list', async () => {
    const rng = new Rng(79);
    const data = Float32Array.from({ length: 256 }, (_, i) => (i % 2 ? 2 : -2) + 0.5 * rng.normal());
    const schedule = scheduleFromBetas(
      'linear',
      Float64Array.from({ length: 100 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 99),
    );
    const base = { epochs: 6, batchSize: 32, learningRate: 1e-3, logEvery: 100 };
    const run = async (accelerate: boolean, objective: string) => {
      const m = asModel(makeMlp(SEED_WIDTHS, 'silu', 31));
      const before = tf.memory().numTensors;
      const r = await train({
        model: m,
        trainingSet: { data, count: 256 },
        shape: [1],
        schedule,
        config: { ...base, objective } as Parameters<typeof train>[0]['config'],
        rng: new Rng(1),
        accelerator: accelerate ? mlpTrainAccelerator : undefined,
      });
      expect(tf.memory().numTensors).toBe(before);
      const w = m.variables[2].dataSync().slice();
      m.dispose();
      return { r, w };
    };
    const fused = await run(true, 'flow');
    const plain = await run(false, 'flow');
    const ddpm = await run(false, 'ddpm');
    expect(fused.r.path).toBe('fused:wasm-simd-mlp');
    expect(plain.r.path).toBe('tfjs');
    expectCurvesClose(
      fused.r.lossHistory.map((h) => h.loss),
      plain.r.lossHistory.map((h) => h.loss),
      1e-3,
    );
    expect(maxAbsDiff(fused.w, plain.w)).toBeLessThan(1e-3);
    // The flow loss is another objective's: were the fused step training DDPM, the curves would match it instead.
    expect(Math.abs(fused.r.lossHistory[0].loss - ddpm.r.lossHistory[0].loss)).toBeGreaterThan(0.1);
    // An objective the kernels do not list is declined before any step, by core's own config (what a later objective would look like).
    const m = asModel(makeMlp(SEED_WIDTHS, 'silu', 31));
    const config = { ...trainingSchema.parse(base), objective: 'score' } as unknown as Parameters<typeof mlpTrainAccelerator.create>[0]['config'];
    const declined = mlpTrainAccelerator.create({ model: m, shape: [1], config, backend: 'cpu' });
    expect(declined).toMatch(/training\.objective score runs on the tfjs path/);
    m.dispose();
  });

  it('follows the plain path with EMA, warm-up + cosine learning rate and AdamW too', async () => {
    const rng = new Rng(78);
    const data = Float32Array.from({ length: 256 }, (_, i) => (i % 2 ? 2 : -2) + 0.5 * rng.normal());
    const schedule = scheduleFromBetas(
      'linear',
      Float64Array.from({ length: 100 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 99),
    );
    const config = {
      epochs: 25, // 200 steps
      batchSize: 32,
      learningRate: 2e-3,
      optimizer: 'adamw' as const,
      weightDecay: 0.05,
      lrSchedule: 'cosine' as const,
      warmupSteps: 20,
      emaDecay: 0.99,
      predictionType: 'v' as const,
      logEvery: 100,
      epsilon: 1e-8,
    };
    const run = async (accelerate: boolean, c: Record<string, unknown> = config) => {
      const m = asModel(makeMlp(SEED_WIDTHS, 'silu', 32));
      const before = tf.memory().numTensors;
      const r = await train({
        model: m,
        trainingSet: { data, count: 256 },
        shape: [1],
        schedule,
        config: c as typeof config,
        rng: new Rng(2),
        accelerator: accelerate ? mlpTrainAccelerator : undefined,
      });
      expect(tf.memory().numTensors).toBe(before);
      const w = m.variables.map((v) => v.dataSync().slice());
      m.dispose();
      return { r, w };
    };
    const fused = await run(true);
    const plain = await run(false);
    expect(fused.r.path).toBe('fused:wasm-simd-mlp');
    expect(fused.r.acceleratorDeclined).toBeUndefined();
    expectCurvesClose(
      fused.r.lossHistory.map((h) => h.loss),
      plain.r.lossHistory.map((h) => h.loss),
      1e-3,
    );
    // The model ends with the EMA weights on both paths, and they agree.
    for (let i = 0; i < fused.w.length; i++) expect(maxAbsDiff(fused.w[i], plain.w[i])).toBeLessThan(1e-3);
    // …and they are the EMA, not the raw weights: without EMA the final weights differ clearly.
    const raw = await run(true, { ...config, emaDecay: undefined });
    expect(maxAbsDiff(raw.w[2], fused.w[2])).toBeGreaterThan(1e-3);
  });

  it('keeps the fused path through periodic checkpoints, and a fused resume lands on the exact same weights', async () => {
    const rng = new Rng(79);
    const data = Float32Array.from({ length: 256 }, (_, i) => (i % 2 ? 2 : -2) + 0.5 * rng.normal());
    const schedule = scheduleFromBetas(
      'linear',
      Float64Array.from({ length: 100 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 99),
    );
    const config = {
      epochs: 12,
      batchSize: 32,
      learningRate: 2e-3,
      optimizer: 'adamw' as const,
      weightDecay: 0.01,
      lrSchedule: 'cosine' as const,
      emaDecay: 0.95,
      checkpointEvery: 4,
      predictionType: 'epsilon' as const,
      logEvery: 100,
      epsilon: 1e-8,
    };
    type State = import('@diffusionlab/core').TrainState;
    const run = async (accelerate: boolean, resumeFrom?: State) => {
      const states: State[] = [];
      const saved: Float32Array[][] = [];
      const m = asModel(makeMlp(SEED_WIDTHS, 'silu', 33));
      const before = tf.memory().numTensors;
      const r = await train({
        model: m,
        trainingSet: { data, count: 256 },
        shape: [1],
        schedule,
        config,
        rng: new Rng(4),
        accelerator: accelerate ? mlpTrainAccelerator : undefined,
        resumeFrom,
        onCheckpoint: (st) => {
          states.push(st);
          // what a checkpoint saves: the EMA weights in the model's variables during the call
          saved.push(m.variables.map((v) => v.dataSync().slice()));
        },
      });
      expect(tf.memory().numTensors).toBe(before);
      const w = m.variables.map((v) => v.dataSync().slice());
      m.dispose();
      return { r, w, states, saved };
    };
    const full = await run(true);
    expect(full.r.path).toBe('fused:wasm-simd-mlp');
    expect(full.states.map((st) => st.epoch)).toEqual([4, 8]);
    // the state is in the tfjs layout: the iteration count, then m and v per variable
    expect(full.states[0].optimizer.length).toBe(1 + 2 * full.w.length);
    expect(full.states[0].optimizer[0].data[0]).toBe(32);
    // the model held the EMA weights while the checkpoint was written, not the raw ones
    expect(maxAbsDiff(full.saved[0][2], full.states[0].ema?.[2].data as Float32Array)).toBe(0);
    expect(maxAbsDiff(full.saved[0][2], full.states[0].weights[2].data)).toBeGreaterThan(0);

    const resumed = await run(true, full.states[0]);
    expect(resumed.r.path).toBe('fused:wasm-simd-mlp');
    expect(resumed.r.resumedFromStep).toBe(32);
    expect(resumed.r.lossHistory).toEqual(full.r.lossHistory);
    for (let i = 0; i < full.w.length; i++) expect(maxAbsDiff(resumed.w[i], full.w[i])).toBe(0);

    // A fused checkpoint also resumes on the tfjs path (and the other way), within float noise.
    const onTfjs = await run(false, full.states[0]);
    expect(onTfjs.r.path).toBe('tfjs');
    const plain = await run(false);
    const fromTfjs = await run(true, plain.states[0]);
    expect(fromTfjs.r.path).toBe('fused:wasm-simd-mlp');
    for (let i = 0; i < full.w.length; i++) {
      expect(maxAbsDiff(onTfjs.w[i], full.w[i])).toBeLessThan(1e-3);
      expect(maxAbsDiff(fromTfjs.w[i], plain.w[i])).toBeLessThan(1e-3);
    }
  });
});
