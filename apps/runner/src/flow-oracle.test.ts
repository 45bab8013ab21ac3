/**
 * The flow-matching samplers with the exact velocity (the `oracle` under `training.objective: flow`)
 * on the reference's 1-D mixture ½ N(−2, 0.5²) + ½ N(2, 0.5²). Two checks, each with a tolerance
 * derived from the method's order rather than from luck:
 * - convergence order: from the same initial noise, the mean distance of a run's samples to the
 *   converged ODE solution (flow-heun at 200 steps; 400 steps moves it by 1e-5) must halve per step
 *   doubling for flow-euler (first order) and quarter for flow-heun (second order). Measured
 *   (n = 4000, seed 7): Euler 0.1380 / 0.0694 / 0.0348 at 10 / 20 / 40 steps (ratios 1.99, 1.99);
 *   Heun 0.0248 / 0.0060 / 0.0017 at 5 / 10 / 20 (ratios 4.1, 3.6).
 * - the mixture: W1 against the exact mixture CDF is at most the converged solution's own (an i.i.d.
 *   draw's: mode imbalance ±0.5/√n of the mass moves W1 by 4·that, 0.104 at 3.3 σ for n = 4000) plus
 *   the coupling distance above (W1 is at most the mean distance of any coupling), which the order
 *   bounds at the default steps by C/steps (Euler, C ≤ 1.5 from 1.38 measured) and C/steps² (Heun,
 *   C ≤ 1, from 0.62).
 */
import { type Dataset, type Denoiser, type DenoiserModel, generateSamples, type NoiseSchedule, parseOptions, Rng, type Sampler } from '@diffusionlab/core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from './backend.js';
import { builtinRegistry } from './plugins.js';

const registry = builtinRegistry();
const ctx = { seed: 0, print: () => {}, interactive: false };
const N = 4000;

async function create<T>(kind: 'dataset' | 'schedule' | 'denoiser' | 'sampler', slot: Record<string, unknown>): Promise<T> {
  const { use, ...options } = slot as { use: string };
  const def = registry.get(kind, use);
  return (await def.create(parseOptions(def.options, options, kind), ctx)) as T;
}

/** erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5·10⁻⁷). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** The mixture's CDF. */
const cdf = (x: number) => 0.25 * (1 + erf((x + 2) / (0.5 * Math.SQRT2))) + 0.25 * (1 + erf((x - 2) / (0.5 * Math.SQRT2)));

/** W1 = ∫|F̂ₙ − F| dx against the exact CDF (midpoint rule on [−6, 6], h = 5·10⁻⁴; the tails beyond hold < 10⁻¹⁵ of the mass). */
function w1Exact(samples: Float32Array): number {
  const a = Float64Array.from(samples).sort();
  const m = 24_000;
  const h = 12 / m;
  let w = 0;
  for (let i = 0, j = 0; i < m; i++) {
    const x = -6 + (i + 0.5) * h;
    while (j < a.length && a[j] <= x) j++;
    w += Math.abs(j / a.length - cdf(x)) * h;
  }
  return w;
}

const meanDistance = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

let model: DenoiserModel;
let schedule: NoiseSchedule;
let dataset: Dataset;
let converged: Float32Array;

async function samplesOf(use: string, steps?: number): Promise<Float32Array> {
  const sampler = await create<Sampler>('sampler', { use, ...(steps ? { steps } : {}) });
  const out = await generateSamples({ model, sampler, schedule, predictionType: 'epsilon', objective: 'flow', shape: dataset.shape, n: N, rng: new Rng(7) });
  return out.samples;
}

beforeAll(async () => {
  await setupBackend('cpu');
  dataset = await create<Dataset>('dataset', {
    use: 'gaussian-mixture',
    size: 1000,
    components: [
      { mean: -2, std: 0.5 },
      { mean: 2, std: 0.5 },
    ],
  });
  schedule = await create<NoiseSchedule>('schedule', { use: 'cosine' });
  const oracle = await create<Denoiser>('denoiser', { use: 'oracle' });
  model = await oracle.build({ dataShape: dataset.shape, schedule, predictionType: 'epsilon', objective: 'flow', rng: new Rng(0), dataset });
  converged = await samplesOf('flow-heun', 200);
});

describe('flow samplers with the exact velocity', () => {
  it('flow-euler is first order: the distance to the converged solution halves per step doubling', async () => {
    const e = await Promise.all([10, 20, 40].map(async (s) => meanDistance(await samplesOf('flow-euler', s), converged)));
    expect(e[0] / e[1]).toBeGreaterThan(1.8);
    expect(e[0] / e[1]).toBeLessThan(2.2);
    expect(e[1] / e[2]).toBeGreaterThan(1.8);
    expect(e[1] / e[2]).toBeLessThan(2.2);
  });

  it('flow-heun is second order: the distance quarters per step doubling', async () => {
    const e = await Promise.all([5, 10, 20].map(async (s) => meanDistance(await samplesOf('flow-heun', s), converged)));
    expect(e[0] / e[1]).toBeGreaterThan(3.2);
    expect(e[0] / e[1]).toBeLessThan(4.8);
    expect(e[1] / e[2]).toBeGreaterThan(3.2);
    expect(e[1] / e[2]).toBeLessThan(4.8);
  });

  it('reproduce the mixture at their default steps, within the i.i.d. bound plus the order bound', async () => {
    const iid = 0.104 + 0.01;
    expect(w1Exact(converged)).toBeLessThan(iid);
    const euler = await samplesOf('flow-euler'); // 20 steps
    expect(meanDistance(euler, converged)).toBeLessThan(1.5 / 20);
    expect(w1Exact(euler)).toBeLessThan(iid + 1.5 / 20);
    const heun = await samplesOf('flow-heun'); // 10 steps
    expect(meanDistance(heun, converged)).toBeLessThan(1 / 10 ** 2);
    expect(w1Exact(heun)).toBeLessThan(iid + 1 / 10 ** 2);
  });
});
