// The worker's engine in Node: the seed setup trains on the fused path, samples with another sampler
// without retraining, scores with W1 exactly as the sorted-sample formula gives it, stops on request
// keeping its weights, and leaks no tensors.
import { useBackend } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Session, StopTraining } from './session.js';
import { SEED_SETUP } from './setup.js';

/** W₁ between equal-size 1-D samples: mean |x₍ᵢ₎ − y₍ᵢ₎| over the sorted values (Villani 2003, Rem. 2.19). */
function w1Sorted(a: Float32Array, b: Float32Array): number {
  const x = Array.from(a).sort((p, q) => p - q);
  const y = Array.from(b).sort((p, q) => p - q);
  return x.reduce((s, v, i) => s + Math.abs(v - y[i]), 0) / x.length;
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('Session', () => {
  it('trains the seed setup on the fused path, resamples with another sampler, and scores W1 with its floor', async () => {
    const before = tf.memory().numTensors;
    const session = await Session.create({ ...SEED_SETUP, training: { ...SEED_SETUP.training, epochs: 200 } });
    const refreshed: number[] = [];
    const report = await session.train({ refreshEvery: 50, onSamples: (r) => refreshed.push(r.samples.length) });
    expect(report.path).toMatch(/^fused:/);
    expect(report.steps).toBe(200 * 32);
    expect(refreshed).toEqual([500, 500, 500]);
    const ddpm = await session.sample();
    expect(ddpm.samples.length).toBe(1000);
    expect(ddpm.metric).toBeCloseTo(w1Sorted(ddpm.samples, ddpm.reference), 6);
    expect(ddpm.noiseFloor).toBeLessThan(ddpm.metric);
    // Another sampler and step count, same weights: no retraining, a different trajectory.
    const ddim = await session.sample({ sampler: { use: 'ddim', options: { steps: 20 } }, trajectory: 5 });
    expect(ddim.nfe).toBe(20);
    // The slider's snapshots: evenly placed over the 20 steps, the last one the samples themselves.
    expect(ddim.trajectory.map((s) => s.step)).toEqual([0, 5, 10, 15, 20]);
    expect(ddim.trajectory[4].samples).toEqual(ddim.samples);
    expect(ddim.samples).not.toEqual(ddpm.samples);
    console.log(
      `node: ${report.stepsPerSecond.toFixed(0)} steps/s on ${report.path}; W1 ddpm ${ddpm.metric.toFixed(4)} ddim ${ddim.metric.toFixed(4)} floor ${ddpm.noiseFloor.toFixed(4)}`,
    );
    session.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops when the gate throws, keeping the weights trained so far', async () => {
    const session = await Session.create({ ...SEED_SETUP, training: { ...SEED_SETUP.training, epochs: 100 } });
    let epochs = 0;
    const report = await session.train({
      gate: async () => {
        if (++epochs === 3) throw new StopTraining();
      },
    });
    expect(report).toMatchObject({ stopped: true, steps: 3 * 32 });
    const after = await session.sample({ n: 200 });
    expect(after.samples.every(Number.isFinite)).toBe(true);
    session.dispose();
  });

  it('trains a 2-D toy with the residual mlp and scores it with sliced Wasserstein', async () => {
    const session = await Session.create({
      ...SEED_SETUP,
      dataset: { use: 'moons', options: { size: 512 } },
      denoiser: { use: 'mlp', options: {} },
      metric: { use: 'sliced-wasserstein', options: {} },
      training: { steps: 100, batchSize: 64 },
      samples: 256,
    });
    const report = await session.train();
    expect(report.steps).toBe(100);
    const r = await session.sample({ sampler: { use: 'ddim', options: { steps: 10 } } });
    expect(r.shape).toEqual([2]);
    expect(r.samples.length).toBe(512);
    expect(r.metric).toBeGreaterThan(0);
    expect(Number.isFinite(r.noiseFloor)).toBe(true);
    session.dispose();
  });

  it('refuses a metric that does not fit the data before training, naming both and the fix', async () => {
    await expect(Session.create({ ...SEED_SETUP, dataset: { use: 'moons', options: { size: 64 } }, metric: { use: 'modes', options: {} } })).rejects.toThrow(
      /metric "modes" does not apply to dataset "moons".*Choose another metric/s,
    );
  });
});
