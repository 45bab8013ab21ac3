// Issue 19: a class-conditional `mlp` (the real denoiser, one-hot(y)·C added to its time layer's
// pre-activation) on the fused kernels against its own tfjs model: one step's loss and gradients (C's
// too), predict, a loss curve through core's train() with label dropout, and guided sampling through
// the runner's sampling path (guidance's batched [y; ∅] call). It lives in the runner because only
// the runner may depend on both packages.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { type DenoiserModel, generateSamples, Rng, scheduleFromBetas, train } from '@diffusionlab/core';
import { buildMlp, mlpOptions } from '@diffusionlab/denoisers';
import { type AcceleratorTrainOptions, createFusedPredictModel, createFusedTrainer, FUSED_MLP_PATH, FusedResidualMlpTrainer, mlpTrainAccelerator } from '@diffusionlab/kernels';
import { plugins as samplerPlugins } from '@diffusionlab/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupBackend } from './backend.js';
import { chooseSamplingPath } from './sampling-path.js';
import { maxAbs, maxAbsDiff } from './compare.test-util.js';

const ADAM: AcceleratorTrainOptions = { optimizer: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, backend: 'cpu' };
const T = 100;
const schedule = scheduleFromBetas(
  'linear',
  Float64Array.from({ length: T }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / (T - 1)),
);
const NAMES = ['a', 'b', 'c'];

function conditionalMlp(options: Record<string, unknown>, D: number, seed = 3): DenoiserModel {
  return buildMlp(mlpOptions.parse(options), { dataShape: [D], schedule, predictionType: 'epsilon', rng: new Rng(seed), labelNames: NAMES });
}

describe('the fused kernels on a conditional `mlp` (cpu reference)', () => {
  it('one step: loss and every gradient (C’s too) within 1e-4 relative of tf.variableGrads through model.predict; predict within 1e-5', async () => {
    await setupBackend('cpu');
    for (const [options, D] of [
      [{ width: 32, depth: 2, timeEmbedding: 16 }, 2],
      [{ width: 24, depth: 1, timeEmbedding: 8, activation: 'gelu', inputEmbedding: 2 }, 1],
    ] as const) {
      const model = conditionalMlp(options, D);
      const rng = new Rng(7);
      const n = 37;
      const batch = {
        xt: Float32Array.from({ length: n * D }, () => rng.normal()),
        t: Float32Array.from({ length: n }, () => rng.int(T)),
        target: Float32Array.from({ length: n * D }, () => rng.normal()),
        labels: Int32Array.from({ length: n }, (_, i) => (i % 4 === 3 ? NAMES.length : rng.int(NAMES.length))),
        size: n,
      };
      const ref = tf.tidy(() => {
        const vars = model.variables as tf.Variable[];
        const { value, grads } = tf.variableGrads(
          () =>
            tf.mean(
              tf.squaredDifference(model.predict(tf.tensor2d(batch.xt, [n, D]), tf.tensor1d(batch.t), tf.tensor1d(batch.labels, 'int32')), tf.tensor2d(batch.target, [n, D])),
            ) as tf.Scalar,
          vars,
        );
        return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync().slice()) };
      });
      const tr = createFusedTrainer(model, ADAM);
      if (!(tr instanceof FusedResidualMlpTrainer)) throw new Error(String(tr));
      const loss = tr.computeGradients(batch);
      expect(Math.abs(loss - ref.loss) / ref.loss).toBeLessThan(1e-4);
      const got = [...tr.readGradients().flatMap((g) => [g.kernel, g.bias]), tr.readClassGradient() as Float32Array];
      expect(got.length).toBe(ref.grads.length);
      // every variable on its own scale (C last: the model adds it after the unconditional weights)
      got.forEach((g, i) => expect(maxAbsDiff(g, ref.grads[i]) / maxAbs(ref.grads[i])).toBeLessThan(1e-4));
      tr.dispose();

      const f = createFusedPredictModel(model, { residual: true });
      if (typeof f === 'string') throw new Error(f);
      tf.tidy(() => {
        const x = tf.tensor2d(batch.xt, [n, D]);
        const y = tf.tensor1d(batch.labels, 'int32');
        for (const t of [tf.tensor1d(batch.t), tf.fill([n], 42)]) {
          for (const labels of [y, undefined]) {
            const want = model.predict(x, t, labels).dataSync();
            expect(maxAbsDiff(f.predict(x, t, labels).dataSync(), want) / Math.max(1, maxAbs(want))).toBeLessThan(1e-5);
          }
        }
      });
      f.dispose();
      model.dispose();
    }
  });

  it('core’s train() with label dropout: the fused path follows the tfjs path’s loss curve and weights (C included)', async () => {
    await setupBackend('cpu');
    const rng = new Rng(5);
    const count = 256;
    const labels = Int32Array.from({ length: count }, (_, i) => i % 3);
    const data = Float32Array.from({ length: 2 * count }, (_, i) => 2 * (labels[i >> 1] - 1) + 0.3 * rng.normal());
    const config = {
      steps: 120,
      batchSize: 32,
      learningRate: 2e-3,
      lrSchedule: 'cosine' as const,
      warmupSteps: 10,
      emaDecay: 0.95,
      predictionType: 'epsilon' as const,
      logEvery: 100,
    };
    const run = async (accelerate: boolean) => {
      const m = conditionalMlp({ width: 32, depth: 2, timeEmbedding: 16 }, 2, 2);
      const before = tf.memory().numTensors;
      const r = await train({
        model: m,
        trainingSet: { data, count, labels },
        shape: [2],
        schedule,
        config,
        conditioning: { enabled: true, dropout: 0.2 },
        rng: new Rng(3),
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
    expect(plain.r.path).toBe('tfjs');
    const a = fused.r.lossHistory.map((h) => h.loss);
    const b = plain.r.lossHistory.map((h) => h.loss);
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]) / b[i]).toBeLessThan(1e-3);
    for (let i = 0; i < fused.w.length; i++) expect(maxAbsDiff(fused.w[i], plain.w[i])).toBeLessThan(1e-3);
  });
});

describe('guided sampling of a conditional `mlp` on the fused forward pass (wasm backend)', () => {
  for (const [use, options, guidance] of [
    ['ddim', { steps: 20 }, 3],
    ['ddpm', {}, 2],
    ['dpmpp-2m', { steps: 10 }, 1],
    ['ddim', { steps: 10 }, 0],
  ] as [string, Record<string, unknown>, number][]) {
    it(`${use}, guidance ${guidance}: the runner picks fused-forward, and the samples are tfjs's (same seed) within 1e-4`, async () => {
      await setupBackend('wasm');
      const model = conditionalMlp({ width: 32, depth: 2, timeEmbedding: 16, inputEmbedding: 1 }, 2, 4);
      const def = samplerPlugins.find((p) => p.name === use);
      if (!def) throw new Error(`no sampler ${use}`);
      const sampler = await def.create(def.options.parse(options) as never, { seed: 1, print: () => {}, interactive: false });
      const n = 90;
      const condition = { labels: Int32Array.from({ length: n }, (_, i) => i % NAMES.length), nullIndex: NAMES.length, guidance };
      const path = chooseSamplingPath({ model, backend: tf.getBackend(), accelerate: true, sampler: sampler as never, schedule, predictionType: 'epsilon', batch: n });
      expect(path.path).toBe(FUSED_MLP_PATH);
      expect(path.declined).toBeUndefined();
      expect(path.loop).toBeUndefined(); // the whole-loop DDPM kernel is plain-MLP only: the sampler's own loop runs
      const before = tf.memory().numTensors;
      const common = { sampler: sampler as never, schedule, predictionType: 'epsilon' as const, shape: [2], n, batchSize: 64, condition };
      const fused = await generateSamples({ ...common, model: path.model, rng: new Rng(11) });
      const ref = await generateSamples({ ...common, model, rng: new Rng(11) });
      path.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(fused.nfe).toBe(ref.nfe);
      const scale = Math.max(1, maxAbs(ref.samples));
      expect(maxAbsDiff(fused.samples, ref.samples) / scale).toBeLessThan(1e-4);
      model.dispose();
    });
  }
});
