// The fused U-Net (@diffusionlab/kernels) against the `unet` denoiser's own tfjs model and core's
// tfjs training path: one step's gradients (tf.variableGrads through model.predict), the forward
// pass samplers use, a 200-step loss curve through core's train(), exact resume, and no leaked
// tensors. It lives in the runner because only the runner may depend on both packages.
//
// The reference runs on the cpu backend with the ResizeNearestNeighbor gradient fix installed:
// tfjs-backend-cpu 4.22's own gradient of the U-Net's upsampling is wrong for every image after the
// first of a batch (see packages/kernels/src/resize-nearest-gradient.ts), which the last test shows.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { type DenoiserModel, Rng, scheduleFromBetas, type TrainState, train, type UnetDescription } from '@diffusionlab/core';
import { buildUnet, unetOptions } from '@diffusionlab/denoisers';
import {
  type AcceleratorTrainOptions,
  createFusedPredictModel,
  createFusedTrainer,
  createFusedUnetTrainer,
  FUSED_UNET_PATH,
  installResizeNearestGradientFix,
  mlpTrainAccelerator,
} from '@diffusionlab/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbs, maxAbsDiff } from './compare.test-util.js';

const ADAM: AcceleratorTrainOptions = { optimizer: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, backend: 'cpu' };
const T = 100;
const schedule = scheduleFromBetas(
  'linear',
  Float64Array.from({ length: T }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / (T - 1)),
);

let uninstallFix: () => void = () => {};
beforeAll(async () => {
  await tf.setBackend('cpu');
  uninstallFix = installResizeNearestGradientFix();
});

function unet(shape: number[], options: Record<string, unknown>, seed = 3): DenoiserModel {
  return buildUnet(unetOptions.parse(options), { dataShape: shape, schedule, predictionType: 'epsilon', rng: new Rng(seed) });
}

/** A batch of n images of `shape`: xₜ and target ~ N(0, 1), t integer in [0, T). */
function randomBatch(n: number, D: number, seed: number) {
  const rng = new Rng(seed);
  return {
    xt: Float32Array.from({ length: n * D }, () => rng.normal()),
    t: Float32Array.from({ length: n }, () => rng.int(T)),
    target: Float32Array.from({ length: n * D }, () => rng.normal()),
    size: n,
  };
}

/** The tfjs loss and gradients of MSE(model.predict(xₜ, t), target), per variable in model order. */
function referenceGrads(model: DenoiserModel, shape: number[], b: ReturnType<typeof randomBatch>) {
  return tf.tidy(() => {
    const xt = tf.tensor(b.xt, [b.size, ...shape]);
    const t = tf.tensor1d(b.t);
    const target = tf.tensor(b.target, [b.size, ...shape]);
    const vars = model.variables as tf.Variable[];
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(model.predict(xt, t), target)) as tf.Scalar, vars);
    return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync().slice() as Float32Array) };
  });
}

describe('fused U-Net against the unet denoiser on tfjs', () => {
  const cases: { shape: number[]; options: Record<string, unknown>; n: number }[] = [
    { shape: [8, 8, 1], options: { channels: 8, channelMultipliers: [1, 2], timeEmbedding: 16 }, n: 6 },
    { shape: [8, 8, 2], options: { channels: 4, channelMultipliers: [1, 2, 3], blocksPerLevel: 2, timeEmbedding: 8, activation: 'gelu' }, n: 3 },
    { shape: [6, 6, 1], options: { channels: 5, channelMultipliers: [2], timeEmbedding: 6, activation: 'relu' }, n: 5 },
    { shape: [4, 4, 3], options: { channels: 6, channelMultipliers: [1, 1], timeEmbedding: 4, activation: 'tanh' }, n: 4 },
  ];
  for (const c of cases) {
    it(`one step's loss and gradients within 1e-4, and predict within 1e-5: ${JSON.stringify(c.options)} on ${c.shape.join('×')}, batch ${c.n}`, () => {
      const model = unet(c.shape, c.options);
      const D = c.shape.reduce((a, b) => a * b, 1);
      const batch = randomBatch(c.n, D, 9);
      const ref = referenceGrads(model, c.shape, batch);
      const before = tf.memory().numTensors;
      const tr = createFusedUnetTrainer(model.describe?.() as UnetDescription, ADAM);
      if (typeof tr === 'string') throw new Error(tr);
      const loss = tr.computeGradients(batch);
      expect(Math.abs(loss - ref.loss)).toBeLessThan(1e-5 * ref.loss);
      const got = tr.readGradients().flatMap((g) => [g.kernel, g.bias]);
      expect(got.length).toBe(ref.grads.length);
      const scale = Math.max(...ref.grads.map(maxAbs));
      got.forEach((g, i) => {
        // each tensor within 1e-4 of its own largest entry (and of the global scale, for tiny tensors)
        expect(maxAbsDiff(g, ref.grads[i])).toBeLessThan(1e-4 * Math.max(maxAbs(ref.grads[i]), 1e-3 * scale));
      });
      tr.dispose();

      const fused = createFusedPredictModel(model, { unet: true });
      if (typeof fused === 'string') throw new Error(fused);
      const [want, out] = tf.tidy(() => {
        const xt = tf.tensor(batch.xt, [c.n, ...c.shape]);
        const t = tf.tensor1d(batch.t);
        return [model.predict(xt, t).dataSync().slice(), fused.predict(xt, t).dataSync().slice()];
      });
      expect(maxAbsDiff(out, want)).toBeLessThan(1e-5 * maxAbs(want));
      fused.dispose();
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }

  it('declines a description field it does not implement, a renamed layer, and is off in predict without the unet option', () => {
    const model = unet([4, 4, 1], { channels: 2, timeEmbedding: 4 });
    const desc = model.describe?.() as UnetDescription;
    // the unet's own defaults (norm none, attention off) are what the kernels implement
    expect(desc.norm).toBe('none');
    expect(desc.attention).toBe(false);
    const accepted = createFusedTrainer({ describe: () => desc }, ADAM);
    if (typeof accepted === 'string') throw new Error(`the default unet was declined: ${accepted}`);
    accepted.dispose();
    // GroupNorm and attention change the network: declined, never ignored
    expect(createFusedTrainer({ describe: () => ({ ...desc, norm: 'group' }) }, ADAM)).toMatch(/no normalisation layers \(norm 'group'\)/);
    expect(createFusedTrainer({ describe: () => ({ ...desc, attention: true }) }, ADAM)).toMatch(/no attention blocks/);
    // a field it has never heard of (a newer option) too
    expect(createFusedTrainer({ describe: () => ({ ...desc, dropout: 0.1 }) as UnetDescription }, ADAM)).toMatch(/does not implement the option 'dropout'/);
    const renamed = desc.layers.map((l, i) => (i === 3 ? { ...l, name: 'other' } : l));
    expect(createFusedUnetTrainer({ ...desc, layers: renamed }, ADAM)).toMatch(/layer 3 is 'other'/);
    expect(createFusedUnetTrainer({ ...desc, layers: desc.layers.slice(1) }, ADAM)).toMatch(/weighted layers/);
    expect(createFusedUnetTrainer({ ...desc, activation: 'swish' as 'silu' }, ADAM)).toMatch(/activation 'swish'/);
    expect(createFusedPredictModel(model)).toMatch(/not a plain MLP.*'unet'/);
    model.dispose();
  });
});

describe("core's train() with the fused U-Net", () => {
  // 256 images 8×8: a blob at a random place, plus noise
  const rng = new Rng(21);
  const data = new Float32Array(256 * 64);
  for (let i = 0; i < 256; i++) {
    const cy = 1 + rng.int(6);
    const cx = 1 + rng.int(6);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) data[i * 64 + y * 8 + x] = Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 3) * 2 - 1 + 0.1 * rng.normal();
  }
  const options = { channels: 8, channelMultipliers: [1, 2], timeEmbedding: 16 };
  const base = { batchSize: 32, learningRate: 2e-3, predictionType: 'epsilon' as const, logEvery: 1000, epsilon: 1e-8 };

  async function run(accelerate: boolean, config: Record<string, unknown>, resumeFrom?: TrainState) {
    const model = unet([8, 8, 1], options, 5);
    const before = tf.memory().numTensors;
    const states: TrainState[] = [];
    const r = await train({
      model,
      trainingSet: { data, count: 256 },
      shape: [8, 8, 1],
      schedule,
      config: { ...base, ...config } as Parameters<typeof train>[0]['config'],
      rng: new Rng(6),
      accelerator: accelerate ? mlpTrainAccelerator : undefined,
      resumeFrom,
      onCheckpoint: (st) => {
        states.push(st);
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    const w = model.variables.map((v) => v.dataSync().slice());
    model.dispose();
    return { r, w, states };
  }

  it('follows the tfjs path’s 200-step loss curve within 1e-3 (AdamW, EMA)', async () => {
    const config = { epochs: 25, optimizer: 'adamw', weightDecay: 0.01, emaDecay: 0.99 };
    const fused = await run(true, config);
    const plain = await run(false, config);
    expect(fused.r.path).toBe(FUSED_UNET_PATH);
    expect(plain.r.path).toBe('tfjs');
    const a = fused.r.lossHistory.map((h) => h.loss);
    const b = plain.r.lossHistory.map((h) => h.loss);
    expect(a.length).toBe(25);
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-3 * b[i]);
    // it learned something: the last epoch's loss is well below the first's
    expect(a[a.length - 1]).toBeLessThan(0.8 * a[0]);
    for (let i = 0; i < fused.w.length; i++) expect(maxAbsDiff(fused.w[i], plain.w[i])).toBeLessThan(1e-3);
  }, 300_000);

  it('resumes exactly from its own checkpoint, and from a tfjs checkpoint', async () => {
    const config = { epochs: 6, optimizer: 'adamw', weightDecay: 0.01, emaDecay: 0.95, checkpointEvery: 3 };
    const full = await run(true, config);
    expect(full.states.map((s) => s.epoch)).toEqual([3]);
    const resumed = await run(true, config, full.states[0]);
    expect(resumed.r.path).toBe(FUSED_UNET_PATH);
    expect(resumed.r.lossHistory).toEqual(full.r.lossHistory);
    for (let i = 0; i < full.w.length; i++) expect(maxAbsDiff(resumed.w[i], full.w[i])).toBe(0);
    const plain = await run(false, config);
    const fromTfjs = await run(true, config, plain.states[0]);
    expect(fromTfjs.r.path).toBe(FUSED_UNET_PATH);
    for (let i = 0; i < full.w.length; i++) expect(maxAbsDiff(fromTfjs.w[i], plain.w[i])).toBeLessThan(1e-3);
  }, 300_000);

  it('on 2 threads follows the 1-thread 200-step loss curve within 1e-3, with the same checkpoint and EMA behaviour (AdamW, EMA)', async () => {
    const config = { epochs: 25, optimizer: 'adamw', weightDecay: 0.01, emaDecay: 0.99, checkpointEvery: 12 };
    const two = await run(true, { ...config, threads: 2 });
    const one = await run(true, config);
    expect(two.r.path).toBe(FUSED_UNET_PATH);
    expect(two.r.pathNotes).toBeUndefined();
    const a = two.r.lossHistory.map((h) => h.loss);
    const b = one.r.lossHistory.map((h) => h.loss);
    expect(a.length).toBe(25);
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-3 * b[i]);
    // …but not bit for bit: the rows really were split (the gradient sums in another order)
    expect(a).not.toEqual(b);
    // the model ends with the EMA weights on both
    for (let i = 0; i < one.w.length; i++) expect(maxAbsDiff(two.w[i], one.w[i])).toBeLessThan(1e-3);
    // checkpoints at the same epochs, with the same slots: weights, Adam's moments and step, EMA
    expect(two.states.map((st) => st.epoch)).toEqual(one.states.map((st) => st.epoch));
    expect(two.states.map((st) => st.epoch)).toEqual([12, 24]);
    for (const [k, st] of two.states.entries()) {
      const ref = one.states[k];
      expect(st.step).toBe(ref.step);
      for (const key of ['weights', 'optimizer', 'ema'] as const) {
        const got = st[key] ?? [];
        const want = ref[key] ?? [];
        expect(got.map((x) => [x.name, x.shape])).toEqual(want.map((x) => [x.name, x.shape]));
      }
      expect(st.ema?.length).toBe(one.w.length);
      expect(st.optimizer[0].data[0]).toBe(ref.optimizer[0].data[0]);
      st.ema?.forEach((e, i) => expect(maxAbsDiff(e.data, (ref.ema ?? [])[i].data)).toBeLessThan(1e-3));
    }
  }, 300_000);

  it('on 2 threads resumes exactly from its own checkpoint', async () => {
    const config = { epochs: 6, optimizer: 'adamw', weightDecay: 0.01, emaDecay: 0.95, checkpointEvery: 3, threads: 2 };
    const full = await run(true, config);
    expect(full.states.map((s) => s.epoch)).toEqual([3]);
    const resumed = await run(true, config, full.states[0]);
    expect(resumed.r.path).toBe(FUSED_UNET_PATH);
    expect(resumed.r.lossHistory).toEqual(full.r.lossHistory);
    for (let i = 0; i < full.w.length; i++) expect(maxAbsDiff(resumed.w[i], full.w[i])).toBe(0);
  }, 300_000);

  it('training.threads on the tfjs path trains as before and says it does not apply', async () => {
    const config = { epochs: 1 };
    const two = await run(false, { ...config, threads: 2 });
    const one = await run(false, config);
    expect(two.r.path).toBe('tfjs');
    expect(two.r.pathNotes).toMatch(/training\.threads 2 applies to the fused U-Net only/);
    expect(one.r.pathNotes).toBeUndefined();
    expect(two.r.lossHistory).toEqual(one.r.lossHistory);
  }, 300_000);

  it('a run with training.threads 2 exits when it ends (the worker threads never keep the process alive)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-unet-threads-'));
    const cfg = join(dir, 'c.yaml');
    writeFileSync(
      cfg,
      `name: unet-threads
backend: cpu
dataset: { use: digits, resolution: 14, size: 64 }
schedule: { use: linear, timesteps: 20 }
denoiser: { use: unet, channels: 4, timeEmbedding: 8 }
training: { steps: 4, batchSize: 16, threads: 2 }
sampler: { use: ddim, steps: 2 }
evaluation: { samples: 4, metrics: [] }
reporters: [summary]
`,
    );
    const here = fileURLToPath(new URL('.', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', join(here, '..', 'test-fixtures', 'ts-hooks.mjs'), join(here, 'bin.ts'), 'run', cfg, '--out', join(dir, 'run')], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const summary = readFileSync(join(dir, 'run', 'summary.json'), 'utf8');
    expect(JSON.parse(summary).training.path).toBe(FUSED_UNET_PATH);
  }, 150_000);

  it('tfjs-backend-cpu’s own upsampling gradient is wrong after the first image (why the fix is installed)', () => {
    uninstallFix();
    try {
      const x = tf.zeros([2, 2, 2, 1]);
      const dy = tf.tensor4d(
        Float32Array.from({ length: 32 }, (_, i) => i),
        [2, 4, 4, 1],
      );
      const g = tf.grad((a: tf.Tensor) => tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [4, 4]))(x, dy);
      // image 1's first pixel: dy rows 0–1, columns 0–1 of image 1 = 16 + 17 + 20 + 21
      expect(g.dataSync()[4]).not.toBe(74);
      tf.dispose([x, dy, g]);
    } finally {
      uninstallFix = installResizeNearestGradientFix();
    }
  });
});
