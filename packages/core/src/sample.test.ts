import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import { generateSamples } from './sample.js';
import { scheduleFromBetas } from './schedule.js';
import type { Sampler } from './spec.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A one-step "sampler": returns x̂₀ at the last timestep from unit noise, so results are checkable by hand. */
const oneStep: Sampler = {
  name: 'one-step',
  defaultSteps: 1,
  timesteps: (s) => [s.numTrainTimesteps - 1],
  async sample({ denoise, schedule, shape, n, rng, onStep }) {
    const D = shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(rng.normalArray(n * D), [n, ...shape]);
    onStep?.({ step: 0, total: 1, t: schedule.numTrainTimesteps - 1, x });
    const out = tf.tidy(() => denoise(x, schedule.numTrainTimesteps - 1).x0);
    x.dispose();
    onStep?.({ step: 1, total: 1, t: -1, x: out });
    return { x: out, nfe: 1 };
  },
};

describe('generateSamples', () => {
  const schedule = scheduleFromBetas('c', [0.5, 0.5]); // ᾱ = 0.5, 0.25
  const zeroEps = { predict: (x: tf.Tensor) => tf.zerosLike(x) };

  it('converts ε-predictions to x₀, counts NFE, batches, and keeps the trajectory', async () => {
    const before = tf.memory().numTensors;
    const r = await generateSamples({
      model: zeroEps,
      sampler: oneStep,
      schedule,
      predictionType: 'epsilon',
      shape: [2],
      n: 5,
      rng: new Rng(1),
      batchSize: 2,
      trajectorySnapshots: 2,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.samples.length).toBe(10);
    expect(r.nfe).toBe(1);
    expect(r.trajectory.map((s) => s.step)).toEqual([0, 1]);
    // With ε̂ = 0, x̂₀ = x_T / √ᾱ_T = 2·x_T.
    const first = r.trajectory[0].samples;
    const last = r.trajectory[1].samples;
    for (let i = 0; i < first.length; i++) expect(last[i]).toBeCloseTo(2 * first[i], 5);
  });
});
