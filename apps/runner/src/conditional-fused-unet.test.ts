// Issue 19: a class-conditional `unet` (the real denoiser: one-hot(y)·C added to its time layer's
// pre-activation) on the fused U-Net against its own tfjs model: one step's loss and gradients (C's
// too), predict with labels, core's train() with label dropout (loss curve, exact resume), and
// guided sampling through the runner's sampling path. The reference runs on the cpu backend with the
// ResizeNearestNeighbor gradient fix, as fused-unet.test.ts explains.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { type DenoiserModel, generateSamples, Rng, scheduleFromBetas, type TrainState, train } from '@diffusionlab/core';
import { buildUnet, unetOptions } from '@diffusionlab/denoisers';
import {
  type AcceleratorTrainOptions,
  createFusedPredictModel,
  createFusedTrainer,
  FUSED_UNET_PATH,
  FUSED_UNET_PREDICT_PATH,
  FusedUnetTrainer,
  installResizeNearestGradientFix,
  mlpTrainAccelerator,
} from '@diffusionlab/kernels';
import { plugins as samplerPlugins } from '@diffusionlab/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from './backend.js';
import { chooseSamplingPath } from './sampling-path.js';
import { maxAbs, maxAbsDiff } from './compare.test-util.js';

const ADAM: AcceleratorTrainOptions = { optimizer: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, backend: 'cpu' };
const T = 100;
const schedule = scheduleFromBetas(
  'linear',
  Float64Array.from({ length: T }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / (T - 1)),
);
const NAMES = ['zero', 'one', 'two'];
const SHAPE = [8, 8, 1];
const D = 64;

let uninstallFix: () => void = () => {};
beforeAll(() => {
  uninstallFix = installResizeNearestGradientFix();
});
afterAll(() => uninstallFix());

function conditionalUnet(options: Record<string, unknown>, seed = 3): DenoiserModel {
  return buildUnet(unetOptions.parse(options), { dataShape: SHAPE, schedule, predictionType: 'epsilon', rng: new Rng(seed), labelNames: NAMES });
}

describe('the fused U-Net on a conditional `unet` (cpu reference)', () => {
  for (const options of [
    { channels: 8, channelMultipliers: [1, 2], timeEmbedding: 16 },
    { channels: 4, channelMultipliers: [1, 2], timeEmbedding: 8, activation: 'gelu' },
  ]) {
    it(`one step: loss and every gradient (C’s too) within 1e-4 of tf.variableGrads through model.predict; predict within 1e-5: ${JSON.stringify(options)}`, async () => {
      await setupBackend('cpu');
      const model = conditionalUnet(options);
      const rng = new Rng(9);
      const n = 7;
      const batch = {
        xt: Float32Array.from({ length: n * D }, () => rng.normal()),
        t: Float32Array.from({ length: n }, () => rng.int(T)),
        target: Float32Array.from({ length: n * D }, () => rng.normal()),
        labels: Int32Array.from({ length: n }, (_, i) => (i === 6 ? NAMES.length : i % 2)),
        size: n,
      };
      const ref = tf.tidy(() => {
        const vars = model.variables as tf.Variable[];
        const { value, grads } = tf.variableGrads(
          () =>
            tf.mean(
              tf.squaredDifference(
                model.predict(tf.tensor(batch.xt, [n, ...SHAPE]), tf.tensor1d(batch.t), tf.tensor1d(batch.labels, 'int32')),
                tf.tensor(batch.target, [n, ...SHAPE]),
              ),
            ) as tf.Scalar,
          vars,
        );
        return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync().slice()) };
      });
      const before = tf.memory().numTensors;
      const tr = createFusedTrainer(model, ADAM);
      if (!(tr instanceof FusedUnetTrainer)) throw new Error(String(tr));
      const loss = tr.computeGradients(batch);
      expect(Math.abs(loss - ref.loss)).toBeLessThan(1e-5 * ref.loss);
      const got = [...tr.readGradients().flatMap((g) => [g.kernel, g.bias]), tr.readClassGradient() as Float32Array];
      expect(got.length).toBe(ref.grads.length);
      const scale = Math.max(...ref.grads.map(maxAbs));
      got.forEach((g, i) => expect(maxAbsDiff(g, ref.grads[i])).toBeLessThan(1e-4 * Math.max(maxAbs(ref.grads[i]), 1e-3 * scale)));
      // C's gradient on its own scale; the class no row has (2) gets exactly 0
      const gc = got[got.length - 1];
      const refC = ref.grads[ref.grads.length - 1];
      expect(maxAbsDiff(gc, refC)).toBeLessThan(1e-4 * maxAbs(refC));
      const width = 4 * options.channels;
      expect(maxAbs(gc.subarray(2 * width, 3 * width))).toBe(0);
      tr.dispose();

      const fused = createFusedPredictModel(model, { unet: true });
      if (typeof fused === 'string') throw new Error(fused);
      expect(fused.path).toBe(FUSED_UNET_PREDICT_PATH);
      tf.tidy(() => {
        const xt = tf.tensor(batch.xt, [n, ...SHAPE]);
        for (const t of [tf.tensor1d(batch.t), tf.fill([n], 30)]) {
          for (const labels of [tf.tensor1d(batch.labels, 'int32'), undefined]) {
            const want = model.predict(xt, t, labels).dataSync();
            expect(maxAbsDiff(fused.predict(xt, t, labels).dataSync(), want)).toBeLessThan(1e-5 * maxAbs(want));
          }
        }
      });
      fused.dispose();
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }
});

describe("core's train() with the fused U-Net on a conditional `unet` (label dropout 0.2)", () => {
  // 192 images 8×8: class k is a blob in corner k (three corners), plus noise
  const rng = new Rng(21);
  const count = 192;
  const labels = Int32Array.from({ length: count }, (_, i) => i % 3);
  const data = new Float32Array(count * D);
  for (let i = 0; i < count; i++) {
    const [cy, cx] = [
      [2, 2],
      [2, 5],
      [5, 3],
    ][labels[i]];
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) data[i * D + y * 8 + x] = Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 3) * 2 - 1 + 0.1 * rng.normal();
  }
  const options = { channels: 4, channelMultipliers: [1, 2], timeEmbedding: 8 };
  const base = { batchSize: 32, learningRate: 2e-3, predictionType: 'epsilon' as const, logEvery: 1000, epsilon: 1e-8, optimizer: 'adamw', weightDecay: 0.01, emaDecay: 0.95 };

  async function run(accelerate: boolean, config: Record<string, unknown>, resumeFrom?: TrainState) {
    const model = conditionalUnet(options, 5);
    const before = tf.memory().numTensors;
    const states: TrainState[] = [];
    const r = await train({
      model,
      trainingSet: { data, count, labels },
      shape: SHAPE,
      schedule,
      config: { ...base, ...config } as Parameters<typeof train>[0]['config'],
      conditioning: { enabled: true, dropout: 0.2 },
      rng: new Rng(6),
      accelerator: accelerate ? mlpTrainAccelerator : undefined,
      resumeFrom,
      onCheckpoint: (st) => void states.push(st),
    });
    expect(tf.memory().numTensors).toBe(before);
    const w = model.variables.map((v) => v.dataSync().slice());
    model.dispose();
    return { r, w, states };
  }

  it('follows the tfjs path’s loss curve within 1e-3 and its weights (C included); resumes exactly from its own checkpoint', async () => {
    await setupBackend('cpu');
    const config = { epochs: 8, checkpointEvery: 4 };
    const fused = await run(true, config);
    const plain = await run(false, config);
    expect(fused.r.path).toBe(FUSED_UNET_PATH);
    expect(fused.r.acceleratorDeclined).toBeUndefined();
    expect(plain.r.path).toBe('tfjs');
    const a = fused.r.lossHistory.map((h) => h.loss);
    const b = plain.r.lossHistory.map((h) => h.loss);
    expect(a.length).toBe(8);
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-3 * b[i]);
    for (let i = 0; i < fused.w.length; i++) expect(maxAbsDiff(fused.w[i], plain.w[i])).toBeLessThan(1e-3);
    expect(fused.states.map((s) => s.epoch)).toEqual([4]);
    const resumed = await run(true, config, fused.states[0]);
    expect(resumed.r.path).toBe(FUSED_UNET_PATH);
    expect(resumed.r.lossHistory).toEqual(fused.r.lossHistory);
    for (let i = 0; i < fused.w.length; i++) expect(maxAbsDiff(resumed.w[i], fused.w[i])).toBe(0);
  }, 300_000);
});

describe('guided sampling of a conditional `unet` on the fused forward pass (wasm backend)', () => {
  it('ddim, guidance 3: the runner picks the fused U-Net forward pass, and the samples are tfjs’s (same seed) within 1e-4', async () => {
    await setupBackend('wasm');
    const model = conditionalUnet({ channels: 4, channelMultipliers: [1, 2], timeEmbedding: 8 }, 4);
    const def = samplerPlugins.find((p) => p.name === 'ddim');
    if (!def) throw new Error('no sampler ddim');
    const sampler = await def.create(def.options.parse({ steps: 10 }) as never, { seed: 1, print: () => {}, interactive: false });
    const n = 9;
    const condition = { labels: Int32Array.from({ length: n }, (_, i) => i % NAMES.length), nullIndex: NAMES.length, guidance: 3 };
    const path = chooseSamplingPath({ model, backend: tf.getBackend(), accelerate: true, sampler: sampler as never, schedule, predictionType: 'epsilon', batch: n });
    expect(path.path).toBe(FUSED_UNET_PREDICT_PATH);
    expect(path.declined).toBeUndefined();
    const before = tf.memory().numTensors;
    const common = { sampler: sampler as never, schedule, predictionType: 'epsilon' as const, shape: SHAPE, n, condition };
    const fused = await generateSamples({ ...common, model: path.model, rng: new Rng(11) });
    const ref = await generateSamples({ ...common, model, rng: new Rng(11) });
    path.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(fused.nfe).toBe(ref.nfe);
    expect(maxAbsDiff(fused.samples, ref.samples) / Math.max(1, maxAbs(ref.samples))).toBeLessThan(1e-4);
    model.dispose();
  });
});
