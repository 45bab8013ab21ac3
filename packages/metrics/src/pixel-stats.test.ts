import { type Metric, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { pixelStats, pixelStatsOptions, pixelStatsMetric } from './pixel-stats.js';
import { ctxFor, gaussian } from './test-helpers.js';

const make = () => pixelStatsMetric.create(pixelStatsOptions.parse({}), { seed: 0, print: () => {}, interactive: false }) as Metric;
const f32 = (v: number[]) => new Float32Array(v);

describe('pixelStats', () => {
  it('matches a hand computation', () => {
    // gen pixels: p0 ∈ {0, 2} (μ 1, s 1), p1 ∈ {2, 4} (μ 3, s 1); ref constant 1 (μ 1, s 0).
    const r = pixelStats(f32([0, 2, 2, 4]), f32([1, 1, 1, 1]), 2);
    expect(r.meanError).toBeCloseTo(1, 12); // (0 + 2)/2
    expect(r.stdError).toBeCloseTo(1, 12); // (1 + 1)/2
    expect(r.generatedMean).toBeCloseTo(2, 12);
    expect(r.generatedStd).toBeCloseTo(Math.SQRT2, 12);
    expect(r.referenceStd).toBe(0);
  });

  it('recovers a brightness shift and a contrast change on image-shaped data', async () => {
    const rng = new Rng(1);
    const shape = [4, 4, 1];
    const n = 4000;
    const ref = gaussian(rng, n, new Array(16).fill(0), 0.5);
    const gen = gaussian(rng, n, new Array(16).fill(0.2), 0.25);
    const r = await make().compute(gen, ref, ctxFor(shape));
    if (typeof r === 'number') throw new Error('expected details');
    // Per-pixel mean sd ≈ 0.5/√n and std sd ≈ 0.5/√(2n); 5 sd tolerances.
    expect(Math.abs(r.value - 0.2)).toBeLessThan((5 * 0.56) / Math.sqrt(n));
    expect(Math.abs((r.details?.stdError as number) - 0.25)).toBeLessThan((5 * 0.4) / Math.sqrt(n));
    expect(await make().compute(ref, ref, ctxFor(shape))).toMatchObject({ value: 0, details: { stdError: 0 } });
  });
});
