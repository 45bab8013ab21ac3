import { type Metric, PluginError, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { ctxFor, gaussian } from './test-helpers.js';
import { marginalW1, w1Options, w1Metric, wasserstein1d, wassersteinP1d } from './w1.js';

const metric = () => w1Metric.create(w1Options.parse({}), { seed: 0, print: () => {}, interactive: false }) as Metric;

describe('wasserstein1d', () => {
  it('matches hand-computed values', () => {
    expect(wasserstein1d([0, 1], [2, 3])).toBeCloseTo(2, 14);
    expect(wasserstein1d([0], [1, 3])).toBeCloseTo(2, 14);
    expect(wasserstein1d([0, 2], [1])).toBeCloseTo(1, 14);
    // ∫|F−G|: [0,1): |1/3−1/2|, [1,2): |2/3−1/2|, [2,3): |1−1/2| → 1/6 + 1/6 + 1/2.
    expect(wasserstein1d([2, 0, 1], [3, 0])).toBeCloseTo(5 / 6, 14);
    expect(wasserstein1d([1, 1, 1], [1])).toBe(0);
  });

  it('is exactly the shift between shifted copies, and symmetric', () => {
    const rng = new Rng(1);
    const a = Array.from({ length: 501 }, () => rng.normal());
    const b = a.map((v) => v + 0.37);
    expect(wasserstein1d(a, b)).toBeCloseTo(0.37, 12);
    const c = Array.from({ length: 333 }, () => 2 * rng.normal() + 1);
    expect(wasserstein1d(a, c)).toBeCloseTo(wasserstein1d(c, a), 12);
  });

  it('agrees with the independent quantile formula for unequal sizes', () => {
    const rng = new Rng(2);
    for (const [n, m] of [
      [1, 7],
      [10, 3],
      [97, 250],
      [400, 401],
    ]) {
      const a = Array.from({ length: n }, () => rng.normal());
      const b = Array.from({ length: m }, () => rng.uniform() * 3);
      expect(wasserstein1d(a, b)).toBeCloseTo(wassersteinP1d(a, b, 1), 12);
    }
  });

  it('equals mean |sorted a − sorted b| for equal sizes', () => {
    const rng = new Rng(3);
    const a = Array.from({ length: 300 }, () => rng.normal());
    const b = Array.from({ length: 300 }, () => rng.uniform() - 0.2);
    const sa = [...a].sort((x, y) => x - y);
    const sb = [...b].sort((x, y) => x - y);
    const direct = sa.reduce((s, v, i) => s + Math.abs(v - sb[i]), 0) / 300;
    expect(wasserstein1d(a, b)).toBeCloseTo(direct, 12);
  });

  it('≈ δ between large N(0,1) and N(δ,1) draws', () => {
    const rng = new Rng(4);
    const n = 20000;
    const delta = 0.5;
    const a = gaussian(rng, n, [0]);
    const b = gaussian(rng, n, [delta]);
    const w = wasserstein1d(a, b);
    // E W1(two empirical N(0,1) samples of size n) is O(1/√n); 5/√n ≈ 0.035 leaves a wide margin.
    expect(Math.abs(w - delta)).toBeLessThan(5 / Math.sqrt(n));
    // W1 ≥ |mean a − mean b| (Kantorovich–Rubinstein with f(x) = x).
    const mean = (x: Float32Array) => x.reduce((s, v) => s + v, 0) / x.length;
    expect(w).toBeGreaterThanOrEqual(Math.abs(mean(a) - mean(b)) - 1e-9);
  });

  it('does not reorder its inputs; returns NaN for NaN input; rejects empty input', () => {
    const a = new Float32Array([3, 1, 2]);
    wasserstein1d(a, [0]);
    expect([...a]).toEqual([3, 1, 2]);
    expect(wasserstein1d([0, Number.NaN], [1])).toBeNaN();
    expect(() => wasserstein1d([], [1])).toThrow(RangeError);
  });
});

describe('wassersteinP1d', () => {
  it('matches a hand-computed W2 and the Gaussian closed form', () => {
    // Quantile pieces: (0,1/3]:0, (1/3,1/2]:1², (1/2,2/3]:2², (2/3,1]:1² → 1/6 + 4/6 + 1/3.
    expect(wassersteinP1d([0, 1, 2], [0, 3], 2)).toBeCloseTo(Math.sqrt(7 / 6), 14);
    const rng = new Rng(5);
    const n = 20000;
    // W2(N(0,1), N(1,2²)) = √((μ₁−μ₂)² + (σ₁−σ₂)²) = √2.
    const w2 = wassersteinP1d(gaussian(rng, n, [0]), gaussian(rng, n, [1], 2), 2);
    expect(Math.abs(w2 - Math.SQRT2)).toBeLessThan(8 / Math.sqrt(n));
    expect(() => wassersteinP1d([0], [1], 0.5)).toThrow(RangeError);
  });
});

describe('w1 metric', () => {
  it('is the mean of marginal W1 with details.perDim', async () => {
    const rng = new Rng(6);
    const a = gaussian(rng, 200, [0, 0]);
    const b = a.map((v, i) => (i % 2 === 0 ? v + 1 : v - 2));
    const r = await metric().compute(a, b, ctxFor([2]));
    if (typeof r === 'number') throw new Error('expected details');
    expect(r.value).toBeCloseTo(1.5, 5);
    expect(r.details?.perDim).toHaveLength(2);
    const perDim = (r.details?.perDim ?? []) as number[];
    expect(perDim[0]).toBeCloseTo(1, 5);
    expect(perDim[1]).toBeCloseTo(2, 5);
    expect(marginalW1(a, b, 2)).toEqual(r.details?.perDim);
  });

  it('reports NaN with a count for non-finite samples, and rejects mis-shaped arrays', async () => {
    const m = metric();
    const r = await m.compute(new Float32Array([0, Number.NaN, Number.POSITIVE_INFINITY]), new Float32Array([0, 1]), ctxFor([1]));
    expect(r).toEqual({ value: Number.NaN, details: { nonFiniteGenerated: 2 } });
    expect(() => m.compute(new Float32Array(5), new Float32Array(4), ctxFor([2]))).toThrow(PluginError);
    expect(() => m.compute(new Float32Array(4), new Float32Array([0, Number.NaN]), ctxFor([2]))).toThrow(/reference set contains 1 NaN/);
  });
});
