/**
 * The fused DDPM loop as a capability: which declared reverse loops it accepts, and that the loop it
 * hands back runs exactly the declared one (variance, step count, draws). Its numerics against a
 * tfjs Algorithm 2 are in predictor.test.ts; against samplers/ddpm in the runner's sampling-path test.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { type AncestralLoopDescription, Rng, type ReverseLoopDescription, scheduleFromBetas } from '@diffusionlab/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fusedDdpmDeclines, fusedDdpmLoop, sampleDdpmFusedTrajectory, terminateDdpmWorkers } from './ddpm.js';
import { asModel, makeMlp } from './test/mlp-fixture.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  await terminateDdpmWorkers();
});

const T = 20;
const schedule = scheduleFromBetas(
  'linear',
  Float64Array.from({ length: T }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / (T - 1)),
);
const every = Array.from({ length: T }, (_, i) => T - 1 - i);
const alg2 = (variance: AncestralLoopDescription['variance'], timesteps: number[] = every): ReverseLoopDescription => ({ kind: 'ddpm-ancestral', timesteps, variance });

describe('fusedDdpmDeclines', () => {
  it('accepts Algorithm 2 over every timestep with either variance, and says why it declines anything else', () => {
    expect(fusedDdpmDeclines(alg2('fixed-small'), schedule)).toBeNull();
    expect(fusedDdpmDeclines(alg2('fixed-large'), schedule)).toBeNull();
    expect(fusedDdpmDeclines(alg2('fixed-small', every.slice(0, T - 1)), schedule)).toMatch(/every timestep.*visits 19/);
    expect(fusedDdpmDeclines(alg2('fixed-small', [...every].reverse()), schedule)).toMatch(/every timestep T−1 … 0/);
    expect(
      fusedDdpmDeclines(
        alg2(
          'fixed-small',
          every.map((t) => (t === 5 ? 6 : t)),
        ),
        schedule,
      ),
    ).toMatch(/every timestep/);
    expect(fusedDdpmDeclines({ ...alg2('fixed-small'), variance: 'learned' } as unknown as ReverseLoopDescription, schedule)).toMatch(/not 'learned'/);
    expect(fusedDdpmDeclines({ ...alg2('fixed-small'), kind: 'ddim' } as unknown as ReverseLoopDescription, schedule)).toMatch(/not a 'ddim' loop/);
    const betas = Float64Array.from(schedule.betas);
    betas[T - 1] = 1;
    expect(fusedDdpmDeclines(alg2('fixed-small'), scheduleFromBetas('zsnr', betas))).toMatch(/α_19 = 0/);
  });
});

describe('fusedDdpmLoop', () => {
  it('runs the declared variance over T steps with the sampler’s draws, and returns T NFE and the snapshots', async () => {
    const d = makeMlp([3, 16, 16, 2], 'silu', 5);
    const model = asModel(d);
    for (const variance of ['fixed-small', 'fixed-large'] as const) {
      const loop = fusedDdpmLoop({ model, loop: alg2(variance), schedule, predictionType: 'v', threads: 1 });
      if (typeof loop === 'string') throw new Error(loop);
      expect(loop.steps).toBe(T);
      const got = await loop.run({ n: 9, rng: new Rng(4), snapshotSteps: [0, T] });
      const want = await sampleDdpmFusedTrajectory({ description: d, schedule, predictionType: 'v', n: 9, rng: new Rng(4), variance, snapshotSteps: [0, T], threads: 1 });
      expect(got.nfe).toBe(T);
      expect(Array.from(got.samples)).toEqual(Array.from(want.samples));
      expect(got.snapshots.map((s) => [s.step, s.t])).toEqual([
        [0, T - 1],
        [T, -1],
      ]);
      // x_T is the rng's first draw, as the declaration promises
      expect(Array.from(got.snapshots[0].samples)).toEqual(Array.from(new Rng(4).normalArray(18)));
    }
    // the two variances are different loops (the declaration is honoured, not ignored)
    const small = fusedDdpmLoop({ model, loop: alg2('fixed-small'), schedule, predictionType: 'v', threads: 1 });
    const large = fusedDdpmLoop({ model, loop: alg2('fixed-large'), schedule, predictionType: 'v', threads: 1 });
    if (typeof small === 'string' || typeof large === 'string') throw new Error('declined');
    const a = (await small.run({ n: 9, rng: new Rng(4), snapshotSteps: [] })).samples;
    const b = (await large.run({ n: 9, rng: new Rng(4), snapshotSteps: [] })).samples;
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('declines a loop it does not run, a model with no plain-MLP description and a structure it cannot run', () => {
    const d = makeMlp([3, 8, 2], 'relu', 2);
    expect(fusedDdpmLoop({ model: asModel(d), loop: alg2('fixed-small', every.slice(1)), schedule, predictionType: 'epsilon', threads: 1 })).toMatch(/every timestep/);
    expect(fusedDdpmLoop({ model: asModel(d, false), loop: alg2('fixed-small'), schedule, predictionType: 'epsilon', threads: 1 })).toMatch(/not a plain MLP/);
    const wrong = makeMlp([4, 8, 2], 'relu', 2); // input width ≠ D + 1
    expect(fusedDdpmLoop({ model: asModel(wrong), loop: alg2('fixed-small'), schedule, predictionType: 'epsilon', threads: 1 })).toMatch(/input width 4/);
    asModel(d).dispose();
    asModel(wrong).dispose();
  });
});
