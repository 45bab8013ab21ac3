import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, scheduleFromBetas } from '@diffusionlab/core';
import { sampleDdpmFused, sampleDdpmFusedTrajectory, terminateDdpmWorkers } from './ddpm.js';
import { createFusedPredictModel, FUSED_MLP_PATH, type FusedPredictModel } from './fused-model.js';
import { asModel, makeMlp, referenceForward } from './test/mlp-fixture.js';
import { relErr } from './test/compare.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  await terminateDdpmWorkers();
});

/** max |a − b| / max(1, max |b|). */
function fused(model: Parameters<typeof createFusedPredictModel>[0]): FusedPredictModel {
  const f = createFusedPredictModel(model);
  if (typeof f === 'string') throw new Error(f);
  return f;
}

describe('createFusedPredictModel', () => {
  it("is a drop-in for the model's predict: same shapes and values, one t or one per row, no leaks", () => {
    const model = asModel(makeMlp([3, 24, 24, 2], 'silu', 8));
    const f = fused(model);
    expect(f.path).toBe(FUSED_MLP_PATH);
    const rng = new Rng(4);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.tensor2d(rng.normalArray(70 * 2), [70, 2]);
      for (const t of [tf.fill([70], 42), tf.tensor1d(Float32Array.from({ length: 70 }, (_, i) => (i * 7) % 100)), tf.fill([70], 12.5)]) {
        const got = f.predict(x, t);
        expect(got.shape).toEqual([70, 2]);
        expect(got.dtype).toBe('float32');
        expect(relErr(got.dataSync(), model.predict(x, t).dataSync())).toBeLessThan(1e-5);
      }
      // integer timesteps (a tensor of dtype int32) read the same as float ones
      const ti = tf.fill([70], 42, 'int32');
      expect(relErr(f.predict(x, ti).dataSync(), model.predict(x, tf.fill([70], 42)).dataSync())).toBeLessThan(1e-5);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(() => tf.tidy(() => f.predict(tf.zeros([4, 3]), tf.zeros([4])))).toThrow(/2 values per row/);
    expect(() => tf.tidy(() => f.predict(tf.zeros([4, 2]), tf.zeros([3])))).toThrow(/3 values for 4 rows/);
    f.dispose();
    model.dispose();
  });

  it('keeps a weight snapshot until refresh()', () => {
    const d = makeMlp([2, 8, 1], 'relu', 5);
    const f = fused(asModel(d));
    const x = tf.tensor2d([0.5, -1], [2, 1]);
    const t = tf.fill([2], 3);
    const a = tf.tidy(() => f.predict(x, t).dataSync().slice());
    d.layers[1].bias.assign(tf.add(d.layers[1].bias, 1) as tf.Tensor1D);
    expect(Array.from(tf.tidy(() => f.predict(x, t).dataSync()))).toEqual(Array.from(a));
    f.refresh();
    const b = tf.tidy(() => f.predict(x, t).dataSync());
    expect(b[0] - a[0]).toBeCloseTo(1, 5);
    tf.dispose([x, t]);
    f.dispose();
  });

  it('declines models the kernels cannot run, with the reason', () => {
    const d = makeMlp([2, 8, 1], 'silu', 5);
    expect(createFusedPredictModel(asModel(d, false))).toMatch(/not a plain MLP/);
    expect(createFusedPredictModel({ describe: () => ({ ...d, activation: 'softplus' as 'silu' }) })).toMatch(/activation/);
    asModel(d).dispose();
  });
});

describe('sampleDdpmFusedTrajectory', () => {
  const schedule = scheduleFromBetas(
    'linear',
    Float64Array.from({ length: 20 }, (_, i) => 1e-3 + (0.1 * i) / 19),
  );

  it('returns the samples of sampleDdpmFused and copies of the state at the requested steps, for any thread count', async () => {
    const d = makeMlp([2, 16, 16, 1], 'silu', 2);
    const xT = new Rng(5).normalArray(37);
    const single = sampleDdpmFused({ description: d, schedule, n: 37, rng: new Rng(1), xT });
    // steps 0 (x_T), 1 (after t = 19), 20 (the final samples); given unsorted and repeated
    const steps = [20, 0, 1, 1];
    const one = await sampleDdpmFusedTrajectory({ description: d, schedule, n: 37, rng: new Rng(1), xT, snapshotSteps: steps, threads: 1 });
    expect(Array.from(one.samples)).toEqual(Array.from(single));
    expect(one.snapshots.map((s) => [s.step, s.t])).toEqual([
      [0, 19],
      [1, 18],
      [20, -1],
    ]);
    expect(Array.from(one.snapshots[0].samples)).toEqual(Array.from(xT));
    expect(Array.from(one.snapshots[2].samples)).toEqual(Array.from(single));
    // step 1 is one DDPM update (t = 19) from x_T: the tfjs forward and Alg. 2 line 4 by hand
    const eps = tf.tidy(() => referenceForward(d, tf.tensor2d(xT, [37, 1]), tf.fill([37], 19)).dataSync());
    const ab = schedule.alphasCumprod[19];
    const z = new Rng(1).normalArray(37); // the first per-step draw (x_T was given, so none before it)
    const sigma = Math.sqrt((schedule.betas[19] * (1 - schedule.alphasCumprod[18])) / (1 - ab));
    const want = Float32Array.from(xT, (x, i) => (x - (schedule.betas[19] / Math.sqrt(1 - ab)) * eps[i]) / Math.sqrt(schedule.alphas[19]) + sigma * z[i]);
    expect(relErr(one.snapshots[1].samples, want)).toBeLessThan(1e-5);
    const two = await sampleDdpmFusedTrajectory({ description: d, schedule, n: 37, rng: new Rng(1), xT, snapshotSteps: steps, threads: 2 });
    expect(Array.from(two.samples)).toEqual(Array.from(one.samples));
    for (const [i, s] of two.snapshots.entries()) expect(Array.from(s.samples)).toEqual(Array.from(one.snapshots[i].samples));
    await expect(sampleDdpmFusedTrajectory({ description: d, schedule, n: 3, rng: new Rng(1), snapshotSteps: [21] })).rejects.toThrow(/snapshot step 21/);
    asModel(d).dispose();
  });
});
