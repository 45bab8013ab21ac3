/**
 * The σ-space solvers against independent references: float64 scalar transcriptions of k-diffusion's
 * sample_euler / sample_heun / sample_dpmpp_2m on the exact Gaussian denoiser, the identity
 * Euler ≡ DDIM(η = 0) (Song et al. 2021 §4.3), the η = 0 limits of the stochastic samplers, and the
 * convergence order (Euler 1, Heun and DPM-Solver++(2M) 2).
 */
import { alphaBarAt, parseOptions, Rng, type Sampler, sigmaOf, timestepForSigma } from '@diffusionlab/core';
import { gaussianDenoiser, gaussianPosterior, activateBackendBeforeAll } from '@diffusionlab/testkit';
import { describe, expect, it } from 'vitest';
import { ddimSampler } from './ddim.js';
import { dpm2Sampler } from './dpm-2.js';
import { dpmpp2mSampler } from './dpmpp-2m.js';
import { dpmpp2mSdeSampler } from './dpmpp-2m-sde.js';
import { dpmpp2sAncestralSampler } from './dpmpp-2s-ancestral.js';
import { dpmpp3mSdeSampler } from './dpmpp-3m-sde.js';
import { eulerSampler } from './euler.js';
import { eulerAncestralSampler } from './euler-ancestral.js';
import { heunSampler } from './heun.js';
import { lmsSampler, lmsCoefficient } from './lms.js';
import { unipcSampler } from './unipc.js';
import { linearSchedule, MU, S } from './fixtures.test-util.js';

activateBackendBeforeAll('cpu');

const schedule = linearSchedule(1000);
const denoise = gaussianDenoiser(MU, S, schedule);
// biome-ignore lint/suspicious/noExplicitAny: any sampler plugin.
const mk = (p: any, raw: Record<string, unknown>): Sampler => p.create(parseOptions(p.options, raw, 'sampler'), {});

async function run(sampler: Sampler, n: number, seed: number, steps?: number): Promise<Float32Array> {
  const out = await sampler.sample({ denoise, schedule, shape: [1], n, steps, rng: new Rng(seed) });
  const x = out.x.dataSync().slice() as Float32Array;
  out.x.dispose();
  return x;
}

/** k-diffusion's model wrapper for a VP model, in float64: D(x_σ, σ) with the model at t = ts[i]. */
function scalarDenoised(xs: number, t: number): number {
  const a = alphaBarAt(schedule, t);
  const { kx, shift } = gaussianPosterior(MU, S, a);
  return MU + kx * (xs * Math.sqrt(a) - shift);
}

/** k-diffusion sample_euler / sample_heun / sample_dpmpp_2m, transcribed in float64 for one start value. */
function kdiffusion(method: 'euler' | 'heun' | 'dpmpp-2m' | 'lms' | 'dpm-2' | 'dpmpp-2s', ts: number[], z: number): number {
  const sig = [...ts.map((t) => sigmaOf(alphaBarAt(schedule, t))), 0];
  let x = z * Math.sqrt(1 + sig[0] * sig[0]); // x_T ~ N(0, 1) in VP scale
  let old: number | null = null;
  const hist: number[] = [];
  for (let i = 0; i < ts.length; i++) {
    const den = scalarDenoised(x, ts[i]);
    const d = (x - den) / sig[i];
    const dt = sig[i + 1] - sig[i];
    hist.unshift(d);
    if (method === 'euler') x = x + d * dt;
    else if (method === 'dpm-2') {
      // sample_dpm_2: midpoint in log σ, Euler on the last step.
      if (sig[i + 1] === 0) x = x + d * dt;
      else {
        const mid = Math.exp((Math.log(sig[i]) + Math.log(sig[i + 1])) / 2);
        const x2 = x + d * (mid - sig[i]);
        const d2 = (x2 - scalarDenoised(x2, timestepForSigma(schedule, mid))) / mid;
        x = x + d2 * dt;
      }
    } else if (method === 'dpmpp-2s') {
      // sample_dpmpp_2s_ancestral with η = 0 (σ_down = σ', σ_up = 0): r = ½ in λ = −log σ.
      if (sig[i + 1] === 0) x = den;
      else {
        const h = Math.log(sig[i]) - Math.log(sig[i + 1]);
        const s = Math.sqrt(sig[i] * sig[i + 1]);
        const x2 = (s / sig[i]) * x - Math.expm1(-h / 2) * den;
        x = (sig[i + 1] / sig[i]) * x - Math.expm1(-h) * scalarDenoised(x2, timestepForSigma(schedule, s));
      }
    } else if (method === 'lms') {
      // Order min(i + 1, 4), first order on the final step; coefficients by composite Simpson (200 panels).
      const order = sig[i + 1] === 0 ? 1 : Math.min(i + 1, 4);
      for (let j = 0; j < order; j++) {
        const ell = (tau: number) => {
          let p = 1;
          for (let k = 0; k < order; k++) if (k !== j) p *= (tau - sig[i - k]) / (sig[i - j] - sig[i - k]);
          return p;
        };
        const m = 200;
        const hh = dt / m;
        let acc = ell(sig[i]) + ell(sig[i + 1]);
        for (let q = 1; q < m; q++) acc += (q % 2 ? 4 : 2) * ell(sig[i] + q * hh);
        x += ((acc * hh) / 3) * hist[j];
      }
    } else if (method === 'heun') {
      if (sig[i + 1] === 0) x = x + d * dt;
      else {
        const x2 = x + d * dt;
        const d2 = (x2 - scalarDenoised(x2, ts[i + 1])) / sig[i + 1];
        x = x + ((d + d2) / 2) * dt;
      }
    } else {
      const t = -Math.log(sig[i]);
      const tNext = -Math.log(sig[i + 1]);
      const h = tNext - t;
      if (old === null || sig[i + 1] === 0) x = (sig[i + 1] / sig[i]) * x - Math.expm1(-h) * den;
      else {
        const hLast = t + Math.log(sig[i - 1]);
        const r = hLast / h;
        const dd = (1 + 1 / (2 * r)) * den - (1 / (2 * r)) * old;
        x = (sig[i + 1] / sig[i]) * x - Math.expm1(-h) * dd;
      }
      old = den;
    }
  }
  return x;
}

describe('σ-space solvers', () => {
  for (const [name, plugin, extra] of [
    ['euler', eulerSampler, {}],
    ['heun', heunSampler, {}],
    ['dpmpp-2m', dpmpp2mSampler, {}],
    ['lms', lmsSampler, {}],
    ['dpm-2', dpm2Sampler, {}],
    ['dpmpp-2s', dpmpp2sAncestralSampler, { eta: 0 }],
  ] as const) {
    for (const raw of [{ timestepSpacing: 'linspace', sigmas: 'default' }, { timestepSpacing: 'trailing', sigmas: 'default' }, { sigmas: 'karras' }]) {
      it(`${name} ${JSON.stringify({ ...raw, ...extra })} matches a float64 transcription of k-diffusion`, async () => {
        const sampler = mk(plugin, { ...raw, ...extra });
        const steps = 8;
        const got = await run(sampler, 16, 21, steps);
        const z = new Rng(21).normalArray(16);
        const ts = sampler.timesteps(schedule, steps);
        for (let i = 0; i < 16; i++) expect(got[i]).toBeCloseTo(kdiffusion(name, ts, z[i]), 4);
      });
    }
  }

  it('lms coefficients integrate the Lagrange basis exactly (hand values)', () => {
    // nodes σ_i = 2, σ_{i−1} = 3, step to 1: ∫₂¹ (3 − τ) dτ = −1.5, ∫₂¹ (τ − 2) dτ = 0.5.
    expect(lmsCoefficient([2, 3], 1, 0)).toBeCloseTo(-1.5, 14);
    expect(lmsCoefficient([2, 3], 1, 1)).toBeCloseTo(0.5, 14);
    expect(lmsCoefficient([2], 1, 0)).toBeCloseTo(-1, 14);
    // The coefficients of any order sum to the step (Σ ℓ_j ≡ 1).
    const c = [0, 1, 2, 3].map((j) => lmsCoefficient([1, 1.5, 2.5, 4], 0.4, j));
    expect(c.reduce((a, b) => a + b)).toBeCloseTo(0.4 - 1, 12);
  });

  it('Euler ≡ DDIM (η = 0) on the same timesteps (Song et al. 2021 §4.3)', async () => {
    for (const steps of [5, 50]) {
      // sigmaMax: false keeps Euler on DDIM's timesteps (the linear schedule's σ(T−1) = 157 is above the default bound).
      const a = await run(mk(eulerSampler, { timestepSpacing: 'trailing', sigmaMax: false }), 64, 2, steps);
      const b = await run(mk(ddimSampler, { timestepSpacing: 'trailing' }), 64, 2, steps);
      for (let i = 0; i < 64; i++) expect(a[i]).toBeCloseTo(b[i], 4);
    }
  });

  it('η = 0 turns euler-ancestral into euler (bit for bit) and dpmpp-2m-sde into dpmpp-2m', async () => {
    const e = await run(mk(eulerSampler, {}), 32, 3, 10);
    const ea = await run(mk(eulerAncestralSampler, { eta: 0 }), 32, 3, 10);
    expect(Array.from(ea)).toEqual(Array.from(e));
    const d = await run(mk(dpmpp2mSampler, {}), 32, 3, 10);
    const ds = await run(mk(dpmpp2mSdeSampler, { eta: 0 }), 32, 3, 10);
    for (let i = 0; i < 32; i++) expect(ds[i]).toBeCloseTo(d[i], 4);
    // and η > 0 really is stochastic
    const ds1 = await run(mk(dpmpp2mSdeSampler, {}), 32, 3, 10);
    expect(Array.from(ds1)).not.toEqual(Array.from(ds));
  });

  it('convergence order of the newer solvers: ≈ 4 (DPM-2, DPM-Solver++(2S), UniPC-1), ≈ 8 (DPM-Solver++(3M), UniPC-2), ≈ 16 (UniPC-3)', async () => {
    // Max error against 800 Karras steps, 40 vs 80 steps (the multistep solvers need a few steps of
    // warm-up before their asymptotic order shows). Measured: dpm-2 4.23, 2S 4.03, 3M 8.31, UniPC
    // order 1/2/3: 4.06, 8.53, 16.5 (the corrector adds one order, Zhao et al. 2023 Thm 3.3).
    const ratio = async (plugin: unknown, raw: Record<string, unknown>) => {
      const opts = { ...raw, sigmas: 'karras' };
      const ref = await run(mk(plugin, opts), 8, 5, 800);
      const err = async (steps: number) => {
        const x = await run(mk(plugin, opts), 8, 5, steps);
        return Math.max(...Array.from(x, (v, i) => Math.abs(v - ref[i])));
      };
      return (await err(40)) / (await err(80));
    };
    for (const [plugin, raw, lo, hi] of [
      [dpm2Sampler, {}, 3.2, 6],
      [dpmpp2sAncestralSampler, { eta: 0 }, 3.2, 6],
      [unipcSampler, { order: 1 }, 3.2, 6],
      [dpmpp3mSdeSampler, { eta: 0 }, 6, 12],
      [unipcSampler, { order: 2 }, 6, 12],
      [unipcSampler, { order: 3 }, 12, 24],
    ] as const) {
      const r = await ratio(plugin, raw);
      expect(r, JSON.stringify(raw)).toBeGreaterThan(lo);
      expect(r, JSON.stringify(raw)).toBeLessThan(hi);
    }
  });

  it('η = 0 makes dpmpp-3m-sde and dpmpp-2s-ancestral deterministic, and η > 0 really is stochastic', async () => {
    const a = await run(mk(dpmpp3mSdeSampler, { eta: 0 }), 32, 3, 10);
    expect(Array.from(await run(mk(dpmpp3mSdeSampler, { eta: 0 }), 32, 3, 10))).toEqual(Array.from(a));
    const c = await run(mk(dpmpp3mSdeSampler, {}), 32, 3, 10);
    expect(Array.from(c)).not.toEqual(Array.from(a));
    const e = await run(mk(dpmpp2sAncestralSampler, { eta: 0 }), 32, 3, 10);
    const f = await run(mk(dpmpp2sAncestralSampler, {}), 32, 3, 10);
    expect(Array.from(f)).not.toEqual(Array.from(e));
  });

  it('convergence order: error ratio at N vs 2N steps ≈ 2 (Euler) and ≈ 4 (Heun, DPM-Solver++(2M))', async () => {
    const ratio = async (plugin: unknown, n1: number) => {
      const ref = await run(mk(plugin, { sigmas: 'karras' }), 8, 5, 800);
      const err = async (steps: number) => {
        const x = await run(mk(plugin, { sigmas: 'karras' }), 8, 5, steps);
        return Math.max(...Array.from(x, (v, i) => Math.abs(v - ref[i])));
      };
      return (await err(n1)) / (await err(2 * n1));
    };
    const re = await ratio(eulerSampler, 20);
    const rh = await ratio(heunSampler, 20);
    const rd = await ratio(dpmpp2mSampler, 20);
    expect(re).toBeGreaterThan(1.6);
    expect(re).toBeLessThan(2.6);
    for (const r of [rh, rd]) {
      expect(r).toBeGreaterThan(3.2);
      expect(r).toBeLessThan(6);
    }
  });
});
