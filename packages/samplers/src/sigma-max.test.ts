/**
 * The σ_max bound of the σ-space samplers (`sigmaMax`, EDM's 80; Karras et al. 2022 Table 1): the
 * grid it gives on a schedule that ends far above it (cosine, T = 1000, σ(T−1) ≈ 2·10⁴), what the
 * samplers report, and the Heun collapse it removes.
 */
import { alphaBarAt, parseOptions, Rng, type Sampler, sigmaOf } from '@diffusionlab/core';
import { gaussianDenoiser, activateBackendBeforeAll } from '@diffusionlab/testkit';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SIGMA_MAX } from './common.js';
import { dpmpp2mSampler } from './dpmpp-2m.js';
import { cosineSchedule, linearSchedule, MU, S, zeroSnrSchedule } from './fixtures.test-util.js';
import { heunSampler } from './heun.js';
import { sigmaTimesteps } from './sigmas.js';

activateBackendBeforeAll('cpu');

const cosine = cosineSchedule(1000);
const sigmaAt = (schedule: typeof cosine, t: number) => sigmaOf(alphaBarAt(schedule, t));
// biome-ignore lint/suspicious/noExplicitAny: any sampler plugin.
const mk = (p: any, raw: Record<string, unknown>): Sampler => p.create(parseOptions(p.options, raw, 'sampler'), {});

async function stats(sampler: Sampler, schedule: typeof cosine, n: number) {
  const out = await sampler.sample({ denoise: gaussianDenoiser(MU, S, schedule), schedule, shape: [1], n, rng: new Rng(11) });
  const x = out.x.dataSync() as Float32Array;
  out.x.dispose();
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { mean, std, info: out.info };
}

describe('sigmaMax', () => {
  it('scales the spaced timesteps into [0, t(σ_max)] on cosine T = 1000, keeping their shape', () => {
    expect(sigmaAt(cosine, 999)).toBeGreaterThan(1e4);
    for (const timestepSpacing of ['linspace', 'leading', 'trailing'] as const) {
      const free = sigmaTimesteps(cosine, 25, { sigmas: 'default', timestepSpacing, sigmaMax: false });
      const bounded = sigmaTimesteps(cosine, 25, { sigmas: 'default', timestepSpacing });
      expect(bounded).toHaveLength(25);
      const scale = bounded[0] / free[0];
      for (let i = 0; i < 25; i++) expect(bounded[i]).toBeCloseTo(free[i] * scale, 9);
      for (let i = 1; i < 25; i++) expect(bounded[i]).toBeLessThan(bounded[i - 1]);
      expect(sigmaAt(cosine, bounded[0])).toBeLessThanOrEqual(DEFAULT_SIGMA_MAX * (1 + 1e-9));
    }
    // trailing starts exactly at σ_max
    expect(sigmaAt(cosine, sigmaTimesteps(cosine, 25, { sigmas: 'default', timestepSpacing: 'trailing' })[0])).toBeCloseTo(80, 6);
  });

  it('leaves a schedule below the bound untouched, and Karras σ ramp from min(σ(T−1), σ_max)', () => {
    const low = linearSchedule(1000, 1e-4, 0.01); // σ(T−1) ≈ 12
    expect(sigmaTimesteps(low, 20, { sigmas: 'default', timestepSpacing: 'trailing' })).toEqual(
      sigmaTimesteps(low, 20, { sigmas: 'default', timestepSpacing: 'trailing', sigmaMax: false }),
    );
    const k = sigmaTimesteps(cosine, 20, { sigmas: 'karras', timestepSpacing: 'trailing' });
    expect(sigmaAt(cosine, k[0])).toBeCloseTo(80, 6);
    expect(k[19]).toBe(0);
    const k10 = sigmaTimesteps(cosine, 20, { sigmas: 'karras', timestepSpacing: 'trailing', sigmaMax: 10 });
    expect(sigmaAt(cosine, k10[0])).toBeCloseTo(10, 6);
  });

  it('keeps the σ = ∞ start of a zero-terminal-SNR schedule and bounds the steps after it', () => {
    const z = zeroSnrSchedule(1000);
    for (const sigmas of ['default', 'karras'] as const) {
      const ts = sigmaTimesteps(z, 10, { sigmas, timestepSpacing: 'trailing' });
      expect(ts[0]).toBe(999);
      expect(sigmaAt(z, ts[1])).toBeLessThanOrEqual(DEFAULT_SIGMA_MAX * (1 + 1e-9));
    }
  });

  it('is reported by the run (sigmaMax, sigmaStart), as summary.json records it', async () => {
    const a = await stats(mk(dpmpp2mSampler, {}), cosine, 16);
    expect(a.info?.sigmaMax).toBe(80);
    expect(a.info?.sigmaStart as number).toBeCloseTo(80, 6);
    const b = await stats(mk(dpmpp2mSampler, { sigmaMax: false }), cosine, 16);
    expect(b.info).toEqual({ sigmaMax: false, sigmaStart: sigmaAt(cosine, 999) });
    const c = await stats(mk(dpmpp2mSampler, {}), zeroSnrSchedule(1000), 16);
    expect(c.info?.sigmaStart).toBe('inf');
  });

  it('rejects a non-positive bound, naming the key', () => {
    expect(() => parseOptions(heunSampler.options, { sigmaMax: 0 }, 'sampler')).toThrow(/sampler\.sigmaMax.*positive number or false/);
  });

  it('Heun on cosine T = 1000 at its default 25 steps: right with the bound, collapsed without it', async () => {
    for (const sigmas of ['default', 'karras']) {
      const r = await stats(mk(heunSampler, { sigmas }), cosine, 2000);
      expect(Math.abs(r.mean - MU), sigmas).toBeLessThan(0.05);
      expect(Math.abs(r.std - S), sigmas).toBeLessThan(0.05);
    }
    const bounded = await stats(mk(heunSampler, { sigmas: 'default' }), cosine, 2000);
    expect(Math.abs(bounded.mean - MU)).toBeLessThan(0.05);
    expect(Math.abs(bounded.std - S)).toBeLessThan(0.05);
    const free = await stats(mk(heunSampler, { sigmas: 'default', sigmaMax: false }), cosine, 2000);
    // Measured: |Δmean| + |Δstd| = 0.32 without the bound (the first trailing step runs σ 20,291 → 16.0).
    expect(Math.abs(free.std - S) + Math.abs(free.mean - MU)).toBeGreaterThan(0.2);
  });
});
