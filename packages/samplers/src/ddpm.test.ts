/**
 * DDPM against the reference: with steps = T it must be the tutorial's loop bit for bit (same rng
 * draws); with fewer steps, the posterior of Ho et al. eq. 7 between visited steps, checked against a
 * float64 scalar transcription; DDIM with η = 1 is the same process.
 */
import { parseOptions, Rng, type Sampler } from '@diffusionlab/core';
import { gaussianDenoiser, gaussianPosterior, activateBackendBeforeAll } from '@diffusionlab/testkit';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createDdim, ddimSampler } from './ddim.js';
import { createDdpm, ddpmSampler } from './ddpm.js';
import { linearSchedule, MU, S, zeroSnrSchedule } from './fixtures.test-util.js';

activateBackendBeforeAll('cpu');

const T = 100;
const schedule = linearSchedule(T); // the reference: β = linspace(1e-4, 0.02, 100)
const denoise = gaussianDenoiser(MU, S, schedule);
const mk = (raw: Record<string, unknown>): Sampler => createDdpm(parseOptions(ddpmSampler.options, raw, 'sampler'));

/**
 * The reference sampling loop, transcribed op for op from the tutorial:
 *   x = randn; for t = T−1 … 0: x = 1/√αₜ·(x − βₜ/√(1−ᾱₜ)·ε̂); if t > 0: x += √σ²ₜ·z.
 * ᾱ is computed here by its own running product; σ²ₜ = βₜ(1−ᾱₜ₋₁)/(1−ᾱₜ) or βₜ.
 */
function referenceLoop(n: number, seed: number, large: boolean): Float32Array {
  const rng = new Rng(seed);
  const betas = Array.from({ length: T }, (_, t) => 1e-4 + (t * (0.02 - 1e-4)) / (T - 1));
  const alphas = betas.map((b) => 1 - b);
  const alphaBar: number[] = [];
  let p = 1;
  for (const a of alphas) {
    p *= a;
    alphaBar.push(p);
  }
  let x = tf.tensor(rng.normalArray(n), [n, 1]);
  for (let t = T - 1; t >= 0; t--) {
    const next = tf.tidy(() => {
      const { eps } = denoise(x, t);
      let y = tf.mul(tf.sub(x, tf.mul(eps, betas[t] / Math.sqrt(1 - alphaBar[t]))), 1 / Math.sqrt(alphas[t]));
      if (t > 0) {
        const variance = large ? betas[t] : (betas[t] * (1 - alphaBar[t - 1])) / (1 - alphaBar[t]);
        y = tf.add(y, tf.mul(tf.tensor(rng.normalArray(n), [n, 1]), Math.sqrt(variance)));
      }
      return y;
    });
    x.dispose();
    x = next;
  }
  const out = x.dataSync().slice() as Float32Array;
  x.dispose();
  return out;
}

async function sampleOnce(raw: Record<string, unknown>, n: number, seed: number, steps?: number): Promise<Float32Array> {
  const out = await mk(raw).sample({ denoise, schedule, shape: [1], n, steps, rng: new Rng(seed) });
  const x = out.x.dataSync().slice() as Float32Array;
  out.x.dispose();
  return x;
}

describe('ddpm', () => {
  it('with steps = T equals the reference loop bit for bit (fixed-small and fixed-large, every spacing)', async () => {
    for (const variance of ['fixed-small', 'fixed-large']) {
      const want = referenceLoop(64, 42, variance === 'fixed-large');
      for (const spacing of ['linspace', 'leading', 'trailing']) {
        const got = await sampleOnce({ variance, timestepSpacing: spacing }, 64, 42);
        expect(Array.from(got)).toEqual(Array.from(want));
      }
      expect(Array.from(await sampleOnce({ variance }, 64, 42, T))).toEqual(Array.from(want));
    }
  });

  it('defaults to T steps: the schedule decides, not a fixed number', async () => {
    const sampler = mk({});
    let calls = 0;
    const out = await sampler.sample({ denoise: (x, t) => (calls++, denoise(x, t)), schedule, shape: [1], n: 2, rng: new Rng(1), steps: sampler.defaultSteps });
    out.x.dispose();
    expect(out.nfe).toBe(T);
    expect(calls).toBe(T);
    expect(sampler.timesteps(schedule, sampler.defaultSteps)).toHaveLength(T);
  });

  it('with steps < T follows the posterior q(x_{t′}|xₜ, x̂₀) of eq. 7 between visited steps (float64 transcription)', async () => {
    const n = 8;
    const got = await sampleOnce({ timestepSpacing: 'trailing' }, n, 9, 3); // visits 99, 66, 32 (then ᾱ = 1)
    const ts = [99, 66, 32];
    const ab = schedule.alphasCumprod;
    const rng = new Rng(9);
    const x = Array.from(rng.normalArray(n));
    for (let i = 0; i < 3; i++) {
      const a = ab[ts[i]];
      const aPrev = i < 2 ? ab[ts[i + 1]] : 1;
      const beta = 1 - a / aPrev;
      const { kx, shift } = gaussianPosterior(MU, S, a);
      const z = i < 2 ? Array.from(rng.normalArray(n)) : null;
      for (let j = 0; j < n; j++) {
        const x0 = MU + kx * (x[j] - shift);
        const mean = ((Math.sqrt(aPrev) * beta) / (1 - a)) * x0 + ((Math.sqrt(1 - beta) * (1 - aPrev)) / (1 - a)) * x[j];
        x[j] = z ? mean + Math.sqrt(((1 - aPrev) / (1 - a)) * beta) * z[j] : mean;
      }
    }
    expect(spacedTimestepsOf(3)).toEqual(ts);
    for (let j = 0; j < n; j++) expect(got[j]).toBeCloseTo(x[j], 5);
  });

  it('DDIM with η = 1 over every step is the same process (same draws, to float32 round-off)', async () => {
    const a = await sampleOnce({}, 64, 4);
    const sampler = createDdim(parseOptions(ddimSampler.options, { eta: 1, steps: T }, 'sampler'));
    const out = await sampler.sample({ denoise, schedule, shape: [1], n: 64, rng: new Rng(4) });
    const b = out.x.dataSync();
    out.x.dispose();
    for (let i = 0; i < 64; i++) expect(b[i]).toBeCloseTo(a[i], 4);
  });

  it('describeLoop declares Algorithm 2 exactly for the option sets whose samples are the reference loop, and null otherwise', async () => {
    // Every combination: a description is a promise that the reference loop (same draws) is what
    // sample() computes; null must mean it is not.
    const cases: [Record<string, unknown>, number | undefined][] = [];
    for (const variance of ['fixed-small', 'fixed-large'])
      for (const timestepSpacing of ['linspace', 'leading', 'trailing'])
        for (const extra of [{}, { steps: T }, { steps: 40 }, { clipSample: 1 }, { thresholding: { ratio: 0.9, maxValue: 1 } }])
          for (const requested of [undefined, T, 25]) cases.push([{ variance, timestepSpacing, ...extra }, requested]);
    let described = 0;
    for (const [raw, requested] of cases) {
      const loop = mk(raw).describeLoop?.(schedule, requested);
      const got = await sampleOnce(raw, 16, 7, requested);
      const want = referenceLoop(16, 7, raw.variance === 'fixed-large');
      if (loop) {
        described++;
        expect(loop).toEqual({ kind: 'ddpm-ancestral', timesteps: Array.from({ length: T }, (_, i) => T - 1 - i), variance: raw.variance });
        expect(Array.from(got)).toEqual(Array.from(want));
      } else {
        expect(Array.from(got)).not.toEqual(Array.from(want));
      }
    }
    // no x̂₀ processing and T steps (the call's steps, else the option's, else T): per variance and
    // spacing, {} and { steps: T } with the call's undefined or T, and { steps: 40 } called with T
    expect(described).toBe(2 * 3 * 5);
    // αₜ = 0 (zero terminal SNR) takes the posterior form at t = T − 1, so it is not Algorithm 2
    expect(mk({}).describeLoop?.(zeroSnrSchedule(T))).toBeNull();
  });

  it('clipSample bounds the result (the last step returns the clipped x̂₀)', async () => {
    const got = await sampleOnce({ clipSample: 1 }, 64, 3);
    expect(Math.max(...got.map(Math.abs))).toBeLessThanOrEqual(1 + 1e-6);
    expect(Math.max(...got)).toBeGreaterThan(0.99); // data at μ = 1.5 piles up at the bound
  });
});

function spacedTimestepsOf(steps: number): number[] {
  return mk({ timestepSpacing: 'trailing' }).timesteps(schedule, steps);
}
