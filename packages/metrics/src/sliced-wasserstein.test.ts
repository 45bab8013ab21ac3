import { type Metric, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { randomUnitDirections, slicedWasserstein, slicedWassersteinOptions, slicedWassersteinMetric } from './sliced-wasserstein.js';
import { ctxFor, gaussian } from './test-helpers.js';
import { wasserstein1d, wassersteinP1d } from './w1.js';

const make = (opts: Record<string, unknown> = {}) =>
  slicedWassersteinMetric.create(slicedWassersteinOptions.parse(opts), { seed: 0, print: () => {}, interactive: false }) as Metric;

describe('randomUnitDirections', () => {
  it('gives unit vectors, reproducible from the seed', () => {
    const a = randomUnitDirections(3, 50, new Rng(1));
    for (let k = 0; k < 50; k++) expect(Math.hypot(a[3 * k], a[3 * k + 1], a[3 * k + 2])).toBeCloseTo(1, 12);
    expect(randomUnitDirections(3, 50, new Rng(1))).toEqual(a);
    expect(randomUnitDirections(3, 50, new Rng(2))).not.toEqual(a);
  });
});

describe('slicedWasserstein', () => {
  it('equals the exact W1 / W2 in one dimension (directions are ±1)', () => {
    const rng = new Rng(3);
    const a = gaussian(rng, 300, [0]);
    const b = gaussian(rng, 200, [0.7], 1.5);
    const r = slicedWasserstein(a, b, 1, randomUnitDirections(1, 16, rng));
    expect(r.sw1).toBeCloseTo(wasserstein1d(a, b), 12);
    expect(r.sw2).toBeCloseTo(wassersteinP1d(a, b, 2), 12);
  });

  it('on shifted copies equals mean |δ·θ| exactly and ≈ 2|δ|/π (SW1), |δ|/√2 (SW2) in 2-D', () => {
    const rng = new Rng(4);
    const a = gaussian(rng, 400, [0, 0]);
    const delta = [1.2, -0.5];
    const b = a.map((v, i) => v + delta[i % 2]);
    const K = 2000;
    const dirs = randomUnitDirections(2, K, new Rng(5));
    const r = slicedWasserstein(a, b, 2, dirs);
    let exact1 = 0;
    let exact2 = 0;
    for (let k = 0; k < K; k++) {
      const proj = delta[0] * dirs[2 * k] + delta[1] * dirs[2 * k + 1];
      exact1 += Math.abs(proj) / K;
      exact2 += (proj * proj) / K;
    }
    // Float32 storage of the shifted copy limits agreement to ~1e-6.
    expect(r.sw1).toBeCloseTo(exact1, 5);
    expect(r.sw2).toBeCloseTo(Math.sqrt(exact2), 5);
    const norm = Math.hypot(delta[0], delta[1]);
    // Monte-Carlo over K directions: sd(|cos φ|) = √(1/2 − 4/π²) ≈ 0.31, so 4·0.31·|δ|/√K bounds the error.
    expect(Math.abs(r.sw1 - (2 * norm) / Math.PI)).toBeLessThan((4 * 0.31 * norm) / Math.sqrt(K));
    // sd(cos² φ) = √(1/8) ≈ 0.354; through the square root the error scales by 1/(2√½) ≈ 0.71, so this is a > 5σ bound.
    expect(Math.abs(r.sw2 - norm / Math.SQRT2)).toBeLessThan((4 * 0.354 * norm) / Math.sqrt(K));
  });

  it('is zero between identical sets and positive otherwise', () => {
    const rng = new Rng(6);
    const a = gaussian(rng, 100, [0, 0, 0]);
    const dirs = randomUnitDirections(3, 32, rng);
    expect(slicedWasserstein(a, a, 3, dirs).sw1).toBe(0);
    expect(slicedWasserstein(a, gaussian(rng, 100, [0, 0, 0]), 3, dirs).sw1).toBeGreaterThan(0);
  });
});

describe('sliced-wasserstein metric', () => {
  it('is deterministic across calls (same directions for the metric and its noise floor)', async () => {
    const rng = new Rng(7);
    const a = gaussian(rng, 300, [0, 0]);
    const b = gaussian(rng, 300, [0.5, 0]);
    const m = make({ projections: 64 });
    const ctx = ctxFor([2]);
    const r1 = await m.compute(a, b, ctx);
    ctx.rng.normal(); // consuming the run's stream must not change the projections
    const r2 = await m.compute(a, b, ctx);
    expect(r2).toEqual(r1);
    expect(r1).toMatchObject({ details: { projections: 64 } });
    // A fresh metric with the same run seed agrees; a different run seed gives different directions.
    expect(await make({ projections: 64 }).compute(a, b, ctxFor([2], {}, 7))).toEqual(r1);
    expect(await make({ projections: 64 }).compute(a, b, ctxFor([2], {}, 8))).not.toEqual(r1);
  });

  it('a seed option fixes the directions regardless of the run seed', async () => {
    const rng = new Rng(8);
    const a = gaussian(rng, 200, [0, 0]);
    const b = gaussian(rng, 200, [1, 0]);
    const r1 = await make({ seed: 42 }).compute(a, b, ctxFor([2], {}, 1));
    const r2 = await make({ seed: 42 }).compute(a, b, ctxFor([2], {}, 2));
    expect(r1).toEqual(r2);
  });

  it('rejects invalid options with a clear message', () => {
    expect(() => slicedWassersteinOptions.parse({ projections: 0 })).toThrow();
    expect(() => slicedWassersteinOptions.parse({ projection: 10 })).toThrow(/projection/);
  });
});
