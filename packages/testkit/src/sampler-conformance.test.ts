import { definePlugin, type NoiseSchedule, type Sampler, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConformanceError } from './assertions.js';
import { activateBackendBeforeAll } from './backend.js';
import {
  checkSamplerDeclarations,
  checkSamplerDeterminism,
  checkSamplerDistribution,
  checkSamplerRun,
  checkSamplerTimesteps,
  conformanceSchedule,
  type SamplerCheckSetting,
  samplerConformance,
} from './sampler-conformance.js';

/** Faults to inject, so each check is shown to fail on the fault it is for. */
interface Faults {
  leak?: boolean;
  mathRandom?: boolean;
  stateful?: boolean;
  noNoise?: boolean;
  nfeOffset?: number;
  flatOutput?: boolean;
  increasingTimesteps?: boolean;
  shift?: number;
}

/**
 * DDPM ancestral sampling (Ho et al. 2020, Alg. 2) as the reference example writes it, on evenly
 * respaced timesteps τ: with α = ᾱ_τᵢ/ᾱ_τᵢ₊₁ and β = 1 − α,
 * x ← (1/√α)(x − β/√(1−ᾱ_τᵢ)·ε̂) + √σ²·z, σ² = β(1 − ᾱ_τᵢ₊₁)/(1 − ᾱ_τᵢ) (ᾱ after the last step = 1).
 * With steps = T this is exactly the reference algorithm.
 */
function makeDdpm(f: Faults = {}): Sampler {
  const state: { x?: tf.Tensor } = {};
  const timesteps = (schedule: NoiseSchedule, steps: number): number[] => {
    const T = schedule.numTrainTimesteps;
    const n = Math.min(steps, T);
    const ts = Array.from({ length: n }, (_, i) => (n === 1 ? T - 1 : Math.round(((T - 1) * (n - 1 - i)) / (n - 1))));
    return f.increasingTimesteps ? ts.reverse() : ts;
  };
  return {
    name: 'ddpm',
    defaultSteps: 1000,
    timesteps,
    async sample({ denoise, schedule, shape, n, steps, rng, onStep }) {
      const ts = timesteps(schedule, steps ?? 1000);
      const full = [n, ...shape];
      const size = full.reduce((a, b) => a * b, 1);
      const draw = () => (f.mathRandom ? Float32Array.from({ length: size }, () => Math.random() * 2 - 1) : rng.normalArray(size));
      let x = tf.tensor(draw(), full);
      let nfe = 0;
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i];
        if (f.stateful) {
          state.x = x;
          await Promise.resolve();
          x = state.x;
        }
        const ab = schedule.alphasCumprod[t];
        const abPrev = i + 1 < ts.length ? schedule.alphasCumprod[ts[i + 1]] : 1;
        const alpha = ab / abPrev;
        const beta = 1 - alpha;
        const variance = (beta * (1 - abPrev)) / (1 - ab);
        const z = i + 1 < ts.length && !f.noNoise ? draw() : null;
        const cur = x;
        const next = tf.tidy(() => {
          const { eps } = denoise(cur, t);
          nfe++;
          let y = tf.mul(tf.sub(cur, tf.mul(eps, beta / Math.sqrt(1 - ab))), 1 / Math.sqrt(alpha));
          if (z) y = tf.add(y, tf.mul(tf.tensor(z, full), Math.sqrt(variance)));
          return y;
        });
        if (!f.leak) cur.dispose();
        x = next;
        onStep?.({ step: i + 1, total: ts.length, t: i + 1 < ts.length ? ts[i + 1] : -1, x });
      }
      if (f.shift) {
        const shifted = tf.add(x, f.shift);
        x.dispose();
        x = shifted;
      }
      if (f.flatOutput) {
        const flat = tf.reshape(x, [-1]);
        x.dispose();
        x = flat;
      }
      return { x, nfe: nfe + (f.nfeOffset ?? 0) };
    },
  };
}

const ddpm = definePlugin({
  kind: 'sampler',
  name: 'ddpm',
  description: 'Exact DDPM ancestral sampler (testkit self-test fixture).',
  options: z.object({}).strict(),
  create: () => makeDdpm(),
});

// The reference formula with steps = T = 1000 on the default schedule: no discretisation slack.
samplerConformance(ddpm, { useCpuBackend: true });
// Respaced to 100 steps with a 1-D shape and another target distribution. For this linear-Gaussian
// chain the output law is exactly computable (x ← A·x + B + c·z step by step): mean −1.99998,
// std 0.4680 instead of 0.5, so the discretisation slack is 0.035 on the std.
samplerConformance(ddpm, { steps: 100, shape: [1], mu: -2, s: 0.5, n: 3000, meanSlack: 0.005, stdSlack: 0.035 });

describe('sampler checks fail on the fault they target', () => {
  activateBackendBeforeAll('cpu');
  const setting: SamplerCheckSetting = { schedule: conformanceSchedule(200), mu: 0.5, s: 0.7, shape: [2], steps: 200 };

  it('a leaking sampler', async () => {
    tf.engine().startScope();
    await expect(checkSamplerRun(makeDdpm({ leak: true }), setting)).rejects.toThrow(/leaked 200 tensor/);
    tf.engine().endScope();
  });
  it('a sampler misreporting nfe', async () => {
    await expect(checkSamplerRun(makeDdpm({ nfeOffset: 1 }), setting)).rejects.toThrow(/reports nfe = 201/);
  });
  it('a sampler returning the wrong shape', async () => {
    await expect(checkSamplerRun(makeDdpm({ flatOutput: true }), setting)).rejects.toThrow(/output shape \[32\]/);
  });
  it('increasing timesteps', () => {
    expect(() => checkSamplerTimesteps(makeDdpm({ increasingTimesteps: true }), setting.schedule, 10)).toThrow(/strictly decreasing/);
    checkSamplerTimesteps(makeDdpm(), setting.schedule, 10);
  });
  it('a sampler drawing from Math.random', async () => {
    await expect(checkSamplerDeterminism(makeDdpm({ mathRandom: true }), setting)).rejects.toThrow(/same seed, different samples/);
  });
  it('a sampler keeping per-call state on the object', async () => {
    tf.engine().startScope();
    await expect(checkSamplerDeterminism(makeDdpm({ stateful: true }), setting)).rejects.toThrow(/concurrent sample\(\) calls/);
    tf.engine().endScope();
  });
  it('a sampler without the ancestral noise (std collapses)', async () => {
    await expect(checkSamplerDistribution(makeDdpm({ noNoise: true }), setting, { n: 500 })).rejects.toThrow(/sample std/);
  });
  it('a biased sampler (mean off by 0.2, > 5 standard errors of 0.7/√1000)', async () => {
    await expect(checkSamplerDistribution(makeDdpm({ shift: 0.2 }), setting, { n: 500 })).rejects.toThrow(/sample mean/);
  });
  it('a check that refuses the setting it samples with, and a declared loop that is not its own', () => {
    const schedule = conformanceSchedule();
    const T = schedule.numTrainTimesteps;
    const refusing: Sampler = {
      ...makeDdpm(),
      check: () => {
        throw new Error('steps too many');
      },
    };
    expect(() => checkSamplerDeclarations(refusing, schedule)).toThrow(/check\(schedule\) refused a setting it samples with: steps too many/);
    const alg2 = (timesteps: number[]) => ({ kind: 'ddpm-ancestral' as const, timesteps, variance: 'fixed-small' as const });
    const lying: Sampler = { ...makeDdpm(), describeLoop: () => alg2(Array.from({ length: T }, (_, i) => T - 1 - i).slice(1)) };
    expect(() => checkSamplerDeclarations(lying, schedule, T)).toThrow(/describeLoop declares timesteps .* but timesteps\(\) visits/);
    const honest: Sampler = { ...makeDdpm(), check: () => {}, describeLoop: (sch, steps) => alg2(makeDdpm().timesteps(sch, steps ?? 1000)) };
    expect(() => checkSamplerDeclarations(honest, schedule, T)).not.toThrow();
  });
  it('the exact sampler passes these same checks, leaving no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const run = await checkSamplerRun(makeDdpm(), setting);
    expect(run.nfe).toBe(200);
    await checkSamplerDeterminism(makeDdpm(), setting);
    const d = await checkSamplerDistribution(makeDdpm(), setting, { n: 500 });
    expect(d.tolMean).toBeCloseTo((5 * 0.7) / Math.sqrt(1000), 12);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('ConformanceError is what the checks throw', async () => {
    await expect(checkSamplerRun(makeDdpm({ nfeOffset: -1 }), setting)).rejects.toBeInstanceOf(ConformanceError);
  });
});
