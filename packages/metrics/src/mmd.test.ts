import { type Metric, PluginError, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { medianPairwiseDistance, mmdOptions, mmdMetric, mmdRbf } from './mmd.js';
import { ctxFor, gaussian } from './test-helpers.js';

const make = (opts: Record<string, unknown> = {}) => mmdMetric.create(mmdOptions.parse(opts), { seed: 0, print: () => {}, interactive: false }) as Metric;
const f32 = (v: number[]) => new Float32Array(v);

describe('mmdRbf', () => {
  it('matches a hand computation on tiny sets (σ = 1)', () => {
    // X = {0, 1}, Y = {0, 2}: k(0,1) = e^{-1/2}, k(0,2) = e^{-2}, k(1,2) = e^{-1/2}, k(0,0) = 1.
    const e = Math.exp;
    const expected = e(-0.5) + e(-2) - (2 / 4) * (1 + e(-2) + 2 * e(-0.5));
    const r = mmdRbf(f32([0, 1]), f32([0, 2]), 1, [1]);
    expect(r.mmd2).toBeCloseTo(expected, 12);
    // Averaging kernels averages the estimates; σ = 2 by hand: k = exp(−d²/8).
    const exp2 = e(-1 / 8) + e(-4 / 8) - 0.5 * (1 + e(-4 / 8) + e(-1 / 8) + e(-1 / 8));
    const r2 = mmdRbf(f32([0, 1]), f32([0, 2]), 1, [1, 2]);
    expect(r2.perBandwidth[1]).toBeCloseTo(exp2, 12);
    expect(r2.mmd2).toBeCloseTo((expected + exp2) / 2, 12);
  });

  it('is symmetric and rejects bad input', () => {
    const rng = new Rng(1);
    const a = gaussian(rng, 50, [0, 0]);
    const b = gaussian(rng, 70, [1, 0]);
    expect(mmdRbf(a, b, 2, [1]).mmd2).toBeCloseTo(mmdRbf(b, a, 2, [1]).mmd2, 12);
    expect(() => mmdRbf(f32([0]), f32([0, 1]), 1, [1])).toThrow(RangeError);
    expect(() => mmdRbf(a, b, 2, [0])).toThrow(RangeError);
  });

  it('is unbiased for the Gaussian closed form, and ≈ 0 under the null', () => {
    // X ~ N(0, I₂), Y ~ N(μ, I₂), RBF σ: E k(X,X') = c, E k(X,Y) = c·exp(−‖μ‖²/(2(σ²+2))), c = (σ²/(σ²+2))^{D/2}.
    const n = 1500;
    const rng = new Rng(2);
    const x = gaussian(rng, n, [0, 0]);
    const y = gaussian(rng, n, [1, 0]);
    const c = 1 / 3;
    const expected = 2 * c * (1 - Math.exp(-1 / 6));
    // Pilot over 30 seeds at n = 1000: sd ≈ 0.31/√n under this alternative; 5 sd tolerance.
    expect(Math.abs(mmdRbf(x, y, 2, [1]).mmd2 - expected)).toBeLessThan((5 * 0.31) / Math.sqrt(n));
    // Under the null the unbiased estimate is O(1/n) (pilot sd ≈ 0.6/n); 5 sd tolerance.
    const y0 = gaussian(rng, n, [0, 0]);
    expect(Math.abs(mmdRbf(x, y0, 2, [1]).mmd2)).toBeLessThan((5 * 0.6) / n);
  });
});

describe('medianPairwiseDistance', () => {
  it('matches hand values (odd and even pair counts)', () => {
    expect(medianPairwiseDistance(f32([0, 1, 3]), 1)).toBe(2); // distances 1, 3, 2
    expect(medianPairwiseDistance(f32([0, 0, 3, 4]), 2)).toBe(5);
    expect(medianPairwiseDistance(f32([0, 1, 3, 7]), 1)).toBe(3.5); // 1 2 3 4 6 7
  });
});

describe('mmd metric', () => {
  it('uses median-heuristic bandwidths from the reference', async () => {
    const r = await make().compute(f32([0, 1, 2]), f32([0, 1, 3]), ctxFor([1]));
    expect(r).toMatchObject({ details: { bandwidths: [1, 2, 4], generatedPoints: 3, referencePoints: 3 } });
    const direct = mmdRbf(f32([0, 1, 2]), f32([0, 1, 3]), 1, [1, 2, 4]).mmd2;
    expect(typeof r === 'number' ? r : r.value).toBeCloseTo(direct, 12);
  });

  it('subsamples to maxPoints, deterministically per seed', async () => {
    const rng = new Rng(3);
    const a = gaussian(rng, 3000, [0, 0]);
    const b = gaussian(rng, 3000, [0.3, 0]);
    const m = make({ maxPoints: 300, bandwidths: [1] });
    const r1 = await m.compute(a, b, ctxFor([2]));
    expect(r1).toMatchObject({ details: { generatedPoints: 300, referencePoints: 300 } });
    expect(await m.compute(a, b, ctxFor([2]))).toEqual(r1);
    expect(await m.compute(a, b, ctxFor([2], {}, 99))).not.toEqual(r1);
    expect(await make({ maxPoints: 300, bandwidths: [1], seed: 5 }).compute(a, b, ctxFor([2], {}, 99))).toEqual(
      await make({ maxPoints: 300, bandwidths: [1], seed: 5 }).compute(a, b, ctxFor([2], {}, 1)),
    );
  });

  it('explains degenerate references and bad options', () => {
    let err: unknown;
    try {
      make().compute(f32([0, 1]), f32([2, 2, 2]), ctxFor([1]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).message).toMatch(/median pairwise distance of the reference set is 0/);
    expect((err as PluginError).hint).toMatch(/fixed RBF bandwidths/);
    expect(() => mmdOptions.parse({ bandwidths: [] })).toThrow(/at least one bandwidth/);
    expect(() => mmdOptions.parse({ bandwidths: 'mean' })).toThrow();
    expect(() => make().compute(f32([0]), f32([0, 1]), ctxFor([1]))).toThrow(/at least 2 generated/);
  });
});
