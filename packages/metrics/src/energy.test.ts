import { type Metric, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { energyDistance, energyOptions, energyMetric } from './energy.js';
import { ctxFor, gaussian, normalCdf } from './test-helpers.js';

const make = (opts: Record<string, unknown> = {}) => energyMetric.create(energyOptions.parse(opts), { seed: 0, print: () => {}, interactive: false }) as Metric;
const f32 = (v: number[]) => new Float32Array(v);

/** 2∫(F − G)² dx for 1-D empirical CDFs, by a merge over the pooled support (Székely & Rizzo 2013, §2.2). */
function cdfIntegral(a: Float32Array, b: Float32Array): number {
  const pts = [...a, ...b].sort((x, y) => x - y);
  const cdf = (s: Float32Array, x: number) => s.filter((v) => v <= x).length / s.length;
  let sum = 0;
  for (let k = 0; k + 1 < pts.length; k++) sum += (cdf(a, pts[k]) - cdf(b, pts[k])) ** 2 * (pts[k + 1] - pts[k]);
  return 2 * sum;
}

describe('energyDistance', () => {
  it('matches a hand computation', () => {
    // exy = (2 + 4 + 1 + 3)/4 = 2.5, exx = 1, eyy = 2 → 5 − 1 − 2.
    const r = energyDistance(f32([0, 1]), f32([2, 4]), 1);
    expect(r).toEqual({ energy: 2, exy: 2.5, exx: 1, eyy: 2 });
  });

  it('in 1-D, its V-statistic form equals 2∫(F − G)² (independent formula)', () => {
    const rng = new Rng(1);
    const a = gaussian(rng, 60, [0]);
    const b = gaussian(rng, 45, [0.5], 2);
    const r = energyDistance(a, b, 1);
    // V-statistic: within-set means over all n² pairs (diagonal zeros included).
    const v = 2 * r.exy - (r.exx * 59) / 60 - (r.eyy * 44) / 45;
    expect(v).toBeCloseTo(cdfIntegral(a, b), 5);
  });

  it('is −2·exx/n (≈ 0) for identical sets', () => {
    const rng = new Rng(2);
    const n = 300;
    const a = gaussian(rng, n, [0, 0]);
    const r = energyDistance(a, a, 2);
    expect(r.energy).toBeCloseTo((-2 * r.exx) / n, 10);
    expect(Math.abs(r.energy)).toBeLessThan(0.02);
  });

  it('matches the closed form for N(0,1) vs N(δ,1)', () => {
    // E|X−Y| = 2φ(δ/√2)√2 + δ(2Φ(δ/√2) − 1), E|X−X'| = E|Y−Y'| = 2/√π.
    const delta = 1;
    const phi = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
    const exy = 2 * phi(delta / Math.SQRT2) * Math.SQRT2 + delta * (2 * normalCdf(delta / Math.SQRT2) - 1);
    const expected = 2 * exy - 4 / Math.sqrt(Math.PI);
    const n = 2000;
    const rng = new Rng(3);
    const r = energyDistance(gaussian(rng, n, [0]), gaussian(rng, n, [delta]), 1);
    // Pilot over 30 seeds at n = 1000: sd ≈ 1.65/√n; 4 sd tolerance.
    expect(Math.abs(r.energy - expected)).toBeLessThan((4 * 1.65) / Math.sqrt(n));
    expect(Math.abs(r.exx - 2 / Math.sqrt(Math.PI))).toBeLessThan(0.05);
  });
});

describe('energy metric', () => {
  it('returns the distance with its terms, subsampled deterministically', async () => {
    const rng = new Rng(4);
    const a = gaussian(rng, 1000, [0, 0]);
    const b = gaussian(rng, 800, [1, 0]);
    const m = make({ maxPoints: 200 });
    const r = await m.compute(a, b, ctxFor([2]));
    expect(r).toMatchObject({ details: { generatedPoints: 200, referencePoints: 200 } });
    expect(await m.compute(a, b, ctxFor([2]))).toEqual(r);
    const full = await make().compute(a, b, ctxFor([2]));
    expect(typeof full === 'number' ? full : full.value).toBeCloseTo(energyDistance(a, b, 2).energy, 10);
    expect(() => energyOptions.parse({ maxPoints: 1 })).toThrow();
  });
});
