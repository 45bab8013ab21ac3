import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DenoiserModel, decodeNpy, generateSamples, type PredictionType, Rng, type Sampler, scheduleFromBetas } from '@diffusionlab/core';
import { buildMlp, buildSeedMlp, buildUnet, mlpOptions, unetOptions } from '@diffusionlab/denoisers';
import { FUSED_UNET_PREDICT_PATH, mlpTrainAccelerator } from '@diffusionlab/kernels';
import { plugins as samplerPlugins } from '@diffusionlab/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from './backend.js';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { sampleRun } from './sample.js';
import { chooseSamplingPath, DDPM_THREADS_MIN_WORK, ddpmThreads, FUSED_DDPM_PATH } from './sampling-path.js';

const T = 100;
const schedule = scheduleFromBetas(
  'linear',
  Float64Array.from({ length: T }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / (T - 1)),
);
const ctx = { seed: 1, print: () => {}, interactive: false };

async function sampler(use: string, options: Record<string, unknown> = {}): Promise<Sampler> {
  const def = samplerPlugins.find((p) => p.name === use);
  if (!def) throw new Error(`no sampler ${use}`);
  return (await def.create(def.options.parse(options) as never, ctx)) as Sampler;
}

function seedModel(predictionType: PredictionType = 'epsilon', D = 1): DenoiserModel {
  return buildSeedMlp({ hidden: 32 }, { dataShape: [D], schedule, predictionType, rng: new Rng(3) });
}

/** max |a − b| / max(1, max |b|): float rounding relative to the samples' scale. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return m / scale;
}

/**
 * Samples twice with the same seed: the path the runner picks, and the sampler's own tfjs loop with
 * the model's own predict (steps as the sampler resolves them, as the runner leaves them).
 */
async function both(
  model: DenoiserModel,
  use: string,
  options: Record<string, unknown>,
  predictionType: PredictionType,
  extra: { n?: number; batchSize?: number; D?: number; shape?: number[]; threads?: number } = {},
) {
  const s = await sampler(use, options);
  const n = extra.n ?? 200;
  const common = { sampler: s, schedule, predictionType, shape: extra.shape ?? [extra.D ?? 1], n, batchSize: extra.batchSize, trajectorySnapshots: 6 };
  const before = tf.memory().numTensors;
  const path = chooseSamplingPath({
    model,
    backend: tf.getBackend(),
    accelerate: true,
    sampler: s,
    schedule,
    predictionType,
    batch: Math.min(n, extra.batchSize ?? n),
    threads: extra.threads,
  });
  const fused = await generateSamples({ ...common, model: path.model, loop: path.loop, steps: path.steps, rng: new Rng(11) });
  path.dispose();
  const ref = await generateSamples({ ...common, model, rng: new Rng(11) });
  expect(tf.memory().numTensors).toBe(before);
  return { path, fused, ref };
}

describe('fused sampling in the runner (wasm backend)', () => {
  beforeAll(async () => {
    await setupBackend('wasm');
  });

  it('runs the reference DDPM loop in the kernels: same samples, trajectory and NFE as tfjs, across batches', async () => {
    const model = seedModel();
    const { path, fused, ref } = await both(model, 'ddpm', {}, 'epsilon', { n: 300, batchSize: 128 });
    expect(path.path).toBe(FUSED_DDPM_PATH);
    expect(path.declined).toBeUndefined();
    expect(maxDiff(fused.samples, ref.samples)).toBeLessThan(1e-4);
    expect(fused.nfe).toBe(ref.nfe);
    expect(fused.steps).toBe(T);
    expect(fused.trajectory.map((s) => [s.step, s.t])).toEqual(ref.trajectory.map((s) => [s.step, s.t]));
    for (const [i, s] of fused.trajectory.entries()) expect(maxDiff(s.samples, ref.trajectory[i].samples)).toBeLessThan(1e-4);
    model.dispose();
  });

  // Parity of the fused DDPM loop with samplers/ddpm for every combination it claims: both
  // variances × the three prediction types × every spacing (all visit every t at steps = T) × 1 and
  // 2 threads, same rng draws. Tolerance: both sides compute in float32; the GEMMs sum in different
  // orders (≤ √K·2⁻²⁴ relative per layer, K ≤ 33 here), and 100 reverse steps each scale x by
  // 1/√αₜ ≤ 1.01 and add a network error of the same order, so the gap stays near 10⁻⁶ of the
  // samples' scale; 1e-4 leaves two orders of margin, while even the small change of σ²ₜ from β̃ₜ
  // to βₜ (they differ much only at the smallest t) moves the samples by over 10× the tolerance (next test).
  for (const variance of ['fixed-small', 'fixed-large'] as const) {
    for (const type of ['epsilon', 'sample', 'v'] as const) {
      for (const [timestepSpacing, threads] of [
        ['trailing', 1],
        ['linspace', 2],
        ['leading', 2],
      ] as const) {
        it(`fused DDPM loop matches samplers/ddpm: ${variance}, ${type} prediction, ${timestepSpacing}, ${threads} thread(s) (2-D)`, async () => {
          const model = seedModel(type, 2);
          const { path, fused, ref } = await both(model, 'ddpm', { variance, timestepSpacing }, type, { D: 2, n: 150, threads });
          expect(path.path).toBe(FUSED_DDPM_PATH);
          expect(path.threads).toBe(threads);
          expect(fused.nfe).toBe(ref.nfe);
          expect(maxDiff(fused.samples, ref.samples)).toBeLessThan(1e-4);
          model.dispose();
        });
      }
    }
  }

  it('the parity tolerance can fail: the other variance choice is far outside it', async () => {
    const model = seedModel('epsilon', 2);
    const small = await both(model, 'ddpm', { variance: 'fixed-small' }, 'epsilon', { D: 2 });
    const large = await both(model, 'ddpm', { variance: 'fixed-large' }, 'epsilon', { D: 2 });
    expect(maxDiff(small.fused.samples, large.ref.samples)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  const others: [string, Record<string, unknown>][] = [
    ['ddpm', { steps: 10 }],
    ['ddpm', { clipSample: 1 }],
    ['ddim', { steps: 10 }],
    ['euler', { steps: 8 }],
    ['heun', { steps: 5 }],
    ['dpmpp-2m', { steps: 10 }],
  ];
  for (const [use, options] of others) {
    it(`gives ${use} ${JSON.stringify(options)} the fused forward pass inside its own loop, with tfjs's samples`, async () => {
      const model = seedModel();
      const { path, fused, ref } = await both(model, use, options, 'epsilon');
      expect(path.path).toBe('fused:wasm-simd-mlp');
      expect(path.loop).toBeUndefined();
      expect(maxDiff(fused.samples, ref.samples)).toBeLessThan(1e-4);
      expect(fused.nfe).toBe(ref.nfe);
      model.dispose();
    });
  }

  it('falls back to tfjs, with the reason, when the model or the switch rules the fused path out', async () => {
    const slot = await sampler('ddpm');
    const seed = seedModel();
    const off = chooseSamplingPath({ model: seed, backend: 'wasm', accelerate: false, sampler: slot, schedule, predictionType: 'epsilon', batch: 10 });
    expect(off).toMatchObject({ path: 'tfjs', declined: 'training.accelerate is false' });
    expect(off.model).toBe(seed);
    const cpu = chooseSamplingPath({ model: seed, backend: 'cpu', accelerate: true, sampler: slot, schedule, predictionType: 'epsilon', batch: 10 });
    expect(cpu.path).toBe('tfjs');
    expect(cpu.declined).toMatch(/backend wasm.*cpu/);
    // A model that describes no MLP structure (as the U-Net) keeps its own predict.
    const opaque = { predict: seed.predict.bind(seed), parameterCount: seed.parameterCount, variables: seed.variables } as unknown as DenoiserModel;
    const notMlp = chooseSamplingPath({ model: opaque, backend: 'wasm', accelerate: true, sampler: slot, schedule, predictionType: 'epsilon', batch: 10 });
    expect(notMlp.path).toBe('tfjs');
    expect(notMlp.declined).toMatch(/not a plain MLP.*nor a residual MLP/);
    expect(notMlp.model).toBe(opaque);
    seed.dispose();
  });

  for (const [use, options] of [
    ['ddpm', {}],
    ['dpmpp-2m', { steps: 10 }],
  ] as [string, Record<string, unknown>][]) {
    it(`gives the residual \`mlp\` the fused forward pass for ${use}: tfjs's samples`, async () => {
      const mlp = buildMlp(mlpOptions.parse({ width: 32, depth: 2, inputEmbedding: 2 }), { dataShape: [2], schedule, predictionType: 'v', rng: new Rng(1) });
      const { path, fused, ref } = await both(mlp, use, options, 'v', { D: 2 });
      expect(path.path).toBe('fused:wasm-simd-mlp');
      expect(path.loop).toBeUndefined();
      expect(maxDiff(fused.samples, ref.samples)).toBeLessThan(1e-4);
      mlp.dispose();
    });
  }

  for (const [use, options] of [
    ['ddpm', {}],
    ['ddim', { steps: 10 }],
  ] as [string, Record<string, unknown>][]) {
    it(`gives the U-Net the fused forward pass for ${use}: tfjs's samples`, async () => {
      const net = buildUnet(unetOptions.parse({ channels: 8, channelMultipliers: [1, 2], timeEmbedding: 16 }), {
        dataShape: [8, 8, 1],
        schedule,
        predictionType: 'epsilon',
        rng: new Rng(2),
      });
      const { path, fused, ref } = await both(net, use, options, 'epsilon', { n: 12, shape: [8, 8, 1] });
      expect(path.path).toBe(FUSED_UNET_PREDICT_PATH);
      expect(path.loop).toBeUndefined(); // the whole-loop DDPM kernel is MLP-only: the sampler's own loop runs
      expect(maxDiff(fused.samples, ref.samples)).toBeLessThan(1e-4);
      expect(fused.nfe).toBe(ref.nfe);
      net.dispose();
    });
  }

  it('trains the residual `mlp` on the fused path with the tfjs path’s loss curve (the real model, not a fixture)', async () => {
    const { train } = await import('@diffusionlab/core');
    const rng = new Rng(5);
    const data = Float32Array.from({ length: 512 }, () => rng.normal());
    const config = {
      steps: 120,
      batchSize: 64,
      learningRate: 2e-3,
      lrSchedule: 'cosine' as const,
      warmupSteps: 10,
      emaDecay: 0.95,
      predictionType: 'epsilon' as const,
      logEvery: 100,
    };
    const run = async (accelerate: boolean) => {
      const m = buildMlp(mlpOptions.parse({ width: 32, depth: 2, activation: 'gelu', inputEmbedding: 1 }), {
        dataShape: [2],
        schedule,
        predictionType: 'epsilon',
        rng: new Rng(2),
      });
      const r = await train({
        model: m,
        trainingSet: { data, count: 256 },
        shape: [2],
        schedule,
        config,
        rng: new Rng(3),
        accelerator: accelerate ? mlpTrainAccelerator : undefined,
        backend: 'wasm',
      });
      const w = m.variables.map((v) => v.dataSync().slice());
      m.dispose();
      return { r, w };
    };
    const fused = await run(true);
    const plain = await run(false);
    expect(fused.r.path).toBe('fused:wasm-simd-mlp');
    expect(plain.r.path).toBe('tfjs');
    const a = fused.r.lossHistory.map((h) => h.loss);
    const b = plain.r.lossHistory.map((h) => h.loss);
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]) / Math.abs(b[i])).toBeLessThan(1e-3);
    for (let i = 0; i < fused.w.length; i++) expect(maxDiff(fused.w[i], plain.w[i])).toBeLessThan(1e-3);
  });

  it('uses a second thread for the DDPM loop only with work enough and an idle core', async () => {
    const big = DDPM_THREADS_MIN_WORK;
    expect(ddpmThreads(big, 2, 0.9)).toBe(2);
    expect(ddpmThreads(big - 1, 2, 0.1)).toBe(1);
    expect(ddpmThreads(big, 2, 1.6)).toBe(1); // another process keeps the second core busy
    expect(ddpmThreads(big, 1, 0)).toBe(1);
    expect(ddpmThreads(big, 16, 3)).toBe(2);
    const slot = await sampler('ddpm');
    const seed = seedModel();
    const one = chooseSamplingPath({ model: seed, backend: 'wasm', accelerate: true, sampler: slot, schedule, predictionType: 'epsilon', batch: 1, threads: 3 });
    expect(one).toMatchObject({ path: FUSED_DDPM_PATH, threads: 3 });
    one.dispose();
    const tiny = chooseSamplingPath({ model: seed, backend: 'wasm', accelerate: true, sampler: slot, schedule, predictionType: 'epsilon', batch: 1 });
    expect(tiny.threads).toBe(1); // 1 × 100 × 1185 parameters is far below the threshold
    tiny.dispose();
    seed.dispose();
  });

  it('runs the whole loop in the kernels exactly when the sampler declares one they accept (by capability, not by name)', async () => {
    const seed = seedModel();
    const pathOf = (s: Pick<Sampler, 'describeLoop'>, sch = schedule): string => {
      const p = chooseSamplingPath({ model: seed, backend: 'wasm', accelerate: true, sampler: s, schedule: sch, predictionType: 'epsilon', batch: 10 });
      p.dispose();
      return p.path;
    };
    // the cases the name-based check had, now answered by the samplers' declarations
    expect(pathOf(await sampler('ddpm', { clipSample: false, thresholding: false }))).toBe(FUSED_DDPM_PATH);
    expect(pathOf(await sampler('ddpm', { steps: T }))).toBe(FUSED_DDPM_PATH);
    expect(pathOf(await sampler('ddpm', { steps: T - 1 }))).toBe('fused:wasm-simd-mlp');
    expect(pathOf(await sampler('ddpm', { thresholding: { ratio: 0.9, maxValue: 1 } }))).toBe('fused:wasm-simd-mlp');
    expect(pathOf(await sampler('ddim', {}))).toBe('fused:wasm-simd-mlp');
    const betas = Float64Array.from(schedule.betas);
    betas[T - 1] = 1; // zero terminal SNR: αₜ = 0 needs the sampler's posterior form
    expect(pathOf(await sampler('ddpm'), scheduleFromBetas('zsnr', betas))).toBe('fused:wasm-simd-mlp');
    // the name plays no part: a declaration is what counts, and the kernels check it
    const all = Array.from({ length: T }, (_, i) => T - 1 - i);
    const declares = (loop: unknown) => ({ name: 'ddpm', describeLoop: () => loop }) as unknown as Pick<Sampler, 'describeLoop'>;
    expect(pathOf({ describeLoop: () => ({ kind: 'ddpm-ancestral', timesteps: all, variance: 'fixed-large' }) })).toBe(FUSED_DDPM_PATH);
    expect(pathOf(declares(null))).toBe('fused:wasm-simd-mlp');
    expect(pathOf({ name: 'ddpm' } as unknown as Sampler)).toBe('fused:wasm-simd-mlp');
    expect(pathOf(declares({ kind: 'ddpm-ancestral', timesteps: all.slice(1), variance: 'fixed-small' }))).toBe('fused:wasm-simd-mlp');
    expect(pathOf(declares({ kind: 'ddpm-ancestral', timesteps: all, variance: 'learned' }))).toBe('fused:wasm-simd-mlp');
    expect(pathOf(declares({ kind: 'ddim', timesteps: all, variance: 'fixed-small' }))).toBe('fused:wasm-simd-mlp');
    seed.dispose();
  });
});

describe('the seed example samples the same on the fused path', () => {
  it('run on wasm (fused) and `sample backend=cpu` (tfjs) give the same samples and W1 within float noise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-fused-'));
    const cfg = join(dir, 'seed.yaml');
    // examples/seed-1d.yaml with 20 epochs and 400 samples (the sampling part is what is checked)
    writeFileSync(
      cfg,
      readFileSync(new URL('../../../examples/seed-1d.yaml', import.meta.url), 'utf8')
        .replace('epochs: 1000', 'epochs: 20')
        .replace('backend: auto', 'backend: wasm')
        .replace('samples: 1000', 'samples: 400')
        .replace(/reporters: .*/, 'reporters: [{ use: summary }]'),
    );
    const loaded = await loadExperiment(cfg);
    const run = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out: join(dir, 'run'), print: () => {}, accelerator: mlpTrainAccelerator });
    expect((run.summary.training as Record<string, unknown>).path).toBe('fused:wasm-simd-mlp');
    const sampling = run.summary.sampling as Record<string, unknown>;
    expect(sampling.path).toBe(FUSED_DDPM_PATH);
    expect(sampling.fusedDeclined).toBeUndefined();
    expect(sampling.nfe).toBe(100);
    const again = await sampleRun(run.runDir, ['backend=cpu'], { out: join(dir, 'tfjs'), print: () => {} });
    const tfjsSampling = again.summary.sampling as Record<string, unknown>;
    expect(tfjsSampling.path).toBe('tfjs');
    expect(tfjsSampling.fusedDeclined).toMatch(/backend wasm/);
    const read = (d: string) => decodeNpy(new Uint8Array(readFileSync(join(d, 'samples.npy')))).data as Float32Array;
    expect(maxDiff(read(run.runDir), read(again.sampleDir))).toBeLessThan(1e-4);
    const w1 = (s: Record<string, unknown>) => (s.metrics as Record<string, number>).w1;
    expect(Math.abs(w1(run.summary) - w1(again.summary))).toBeLessThan(1e-5);
    expect(w1(run.summary)).toBeGreaterThan(0);
  });
});
