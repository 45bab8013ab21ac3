import { type GaussianMixtureInfo, type Metric, type MetricResult, parseOptions, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { classDiversityMetric, classDiversityOptions, meanPairwiseDistance } from './class-diversity.js';
import { ctxFor, drawByRow, gaussian, rowClasses } from './test-helpers.js';

const make = async (raw: Record<string, unknown> = {}) =>
  (await classDiversityMetric.create(parseOptions(classDiversityOptions, raw, 'evaluation.metrics[0]'), { seed: 0, print: () => {}, interactive: false })) as Metric;
type Details = { value: number; classDiversityPerClass: number[]; classDiversityGenerated: number[]; classDiversityReference: number[] };
const details = (r: MetricResult) => (typeof r === 'number' ? { value: r } : { value: r.value, ...r.details }) as Details;

/** Three 2-D classes with different spreads (std 0.3, 1, 2). */
const MIX: GaussianMixtureInfo = {
  weights: [1 / 3, 1 / 3, 1 / 3],
  means: [
    [0, 0],
    [5, 0],
    [0, 5],
  ],
  stds: [
    [0.3, 0.3],
    [1, 1],
    [2, 2],
  ],
};
const NAMES = ['a', 'b', 'c'];
const labelsFor = (n: number, m: number) => ({ samples: rowClasses(n, 3), reference: rowClasses(m, 3), names: NAMES });

/**
 * E‖X − X'‖ for X, X' i.i.d. N(μ, σ²I_d): X − X' ~ N(0, 2σ²I_d), whose norm is √2·σ times a chi
 * variable with mean √2·Γ((d+1)/2)/Γ(d/2); so 2σ/√π in 1-D and σ√π in 2-D.
 */
const expectedPairwise = (sigma: number, d: 1 | 2) => (d === 1 ? (2 * sigma) / Math.sqrt(Math.PI) : sigma * Math.sqrt(Math.PI));

describe('class-diversity', () => {
  it('the mean pairwise distance of Gaussian draws matches its closed form', () => {
    for (const d of [1, 2] as const) {
      const x = gaussian(new Rng(d), 3000, d === 1 ? [3] : [3, -1], 1.5);
      expect(meanPairwiseDistance(x, d)).toBeCloseTo(expectedPairwise(1.5, d), 1);
      expect(Math.abs(meanPairwiseDistance(x, d) / expectedPairwise(1.5, d) - 1)).toBeLessThan(0.03);
    }
    expect(meanPairwiseDistance(Float32Array.from([0, 0, 3, 4]), 2)).toBe(5);
  });

  it('is ≈ 1 on real data with its true classes (the floor) and the spread ratio per class when samples are narrower', async () => {
    const m = await make({ maxPerClass: 1000 });
    const reference = drawByRow(MIX, 3000, new Rng(1));
    const ctx = { ...ctxFor([2]), labels: labelsFor(3000, 3000) };
    const floor = details(await m.compute(drawByRow(MIX, 3000, new Rng(2)), reference, ctx));
    // Over 20 seeds at these sizes the per-class ratio had sd ≤ 0.029 and the mean 0.012: bounds of ≈ 3.5σ.
    for (const r of floor.classDiversityPerClass) expect(Math.abs(r - 1)).toBeLessThan(0.1);
    expect(Math.abs(floor.value - 1)).toBeLessThan(0.045);
    // Each class drawn at half its spread: D scales with σ, so every ratio is ≈ 0.5.
    const half = details(await m.compute(drawByRow(MIX, 3000, new Rng(3), 0, 0.5), reference, ctx));
    for (const r of half.classDiversityPerClass) expect(Math.abs(r - 0.5)).toBeLessThan(0.05);
    for (let c = 0; c < 3; c++) expect(Math.abs(half.classDiversityReference[c] / expectedPairwise(MIX.stds[c][0], 2) - 1)).toBeLessThan(0.07);
  });

  it('is 0 for a collapsed class, and measures spread only: a class drawn in the wrong place keeps its ratio', async () => {
    const m = await make();
    const reference = drawByRow(MIX, 900, new Rng(4));
    const ctx = { ...ctxFor([2]), labels: labelsFor(300, 900) };
    // Class 0 collapsed onto one point, the others real.
    const x = drawByRow(MIX, 300, new Rng(5));
    for (let i = 0; i < 300; i += 3) x.set([0.1, 0.1], 2 * i);
    const r = details(await m.compute(x, reference, ctx));
    expect(r.classDiversityPerClass[0]).toBe(0);
    expect(r.value).toBeCloseTo((r.classDiversityPerClass[1] + r.classDiversityPerClass[2]) / 3, 12);
    // Every class moved by (+20, +20): within-class distances, and so the ratios, are unchanged.
    const moved = drawByRow(MIX, 300, new Rng(5)).map((v) => v + 20);
    const a = details(await m.compute(drawByRow(MIX, 300, new Rng(5)), reference, ctx));
    const b = details(await m.compute(moved, reference, ctx));
    for (let c = 0; c < 3; c++) expect(b.classDiversityPerClass[c]).toBeCloseTo(a.classDiversityPerClass[c], 4);
  });

  it('skips classes with fewer than two samples and refuses what it cannot measure, naming the metric', async () => {
    const m = await make();
    const reference = drawByRow(MIX, 90, new Rng(6));
    const x = drawByRow(MIX, 4, new Rng(7));
    // Requests 0, 0, 0, 1: class 1 has one sample (NaN), class 2 none.
    const r = details(await m.compute(x, reference, { ...ctxFor([2]), labels: { samples: Int32Array.from([0, 0, 0, 1]), reference: rowClasses(90, 3), names: NAMES } }));
    expect(r.classDiversityPerClass.slice(1)).toEqual([Number.NaN, Number.NaN]);
    expect(r.value).toBe(r.classDiversityPerClass[0]);
    await expect(async () =>
      m.compute(x.slice(0, 6), reference, { ...ctxFor([2]), labels: { samples: rowClasses(3, 3), reference: rowClasses(90, 3), names: NAMES } }),
    ).rejects.toThrow(/Metric "class-diversity": no requested class has two or more samples/);
    const oneRefOfClass2 = rowClasses(90, 2);
    oneRefOfClass2[0] = 2;
    await expect(async () =>
      m.compute(x, reference, { ...ctxFor([2]), labels: { samples: Int32Array.from([2, 2, 0, 0]), reference: oneRefOfClass2, names: NAMES } }),
    ).rejects.toThrow(/class 2 \("c"\) was requested but the reference has 1 point\(s\) of it/);
    await expect(async () => m.compute(x, reference, ctxFor([2]))).rejects.toThrow(/Metric "class-diversity": the samples come without class labels/);
    expect(() => m.check?.({ shape: [2], info: {} })).toThrow(/Metric "class-diversity"/);
  });
});
