import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Metric, type MetricResult, PluginError, parseOptions, Rng } from '@diffusionlab/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDigitSplit } from './digit-classifier.js';
import { digitInceptionScoreMetric, digitInceptionScoreOptions, digitProbabilities, inceptionScore } from './digit-inception-score.js';
import { ctxFor } from './test-helpers.js';

/** n rows of k-class probabilities, row i certain of class i mod k. */
const confident = (n: number, k: number) => Float64Array.from({ length: n * k }, (_, j) => (j % k === Math.floor(j / k) % k ? 1 : 0));

describe('inceptionScore', () => {
  it('is k for certain predictions spread evenly over k classes', () => {
    for (const k of [1, 2, 3, 10]) expect(inceptionScore(confident(10 * k, k), k).score).toBeCloseTo(k, 12);
    // Over ten classes with only k used: still k.
    const four = new Float64Array(40 * 10);
    for (let i = 0; i < 40; i++) four[i * 10 + (i % 4)] = 1;
    const s = inceptionScore(four, 10);
    expect(s.score).toBeCloseTo(4, 12);
    expect(s.marginalEntropy).toBeCloseTo(Math.log(4), 12);
    expect(s.conditionalEntropy).toBe(0);
  });

  it('is 1 when every sample gets the same prediction, however confident', () => {
    const row = [0.05, 0.6, 0.1, 0.25];
    const same = Float64Array.from({ length: 50 * 4 }, (_, j) => row[j % 4]);
    expect(inceptionScore(same, 4).score).toBe(1);
    expect(inceptionScore(confident(20, 1), 1).score).toBe(1);
    expect(
      inceptionScore(
        Float64Array.from({ length: 30 }, () => 0.1),
        10,
      ).score,
    ).toBe(1); // all uniform
  });

  it('equals exp(H(p(y)) − E H(p(y|x))) on a mixed case', () => {
    // Two samples, p = (0.9, 0.1) and (0.2, 0.8): marginal (0.55, 0.45).
    const h = (p: number[]) => -p.reduce((s, q) => s + q * Math.log(q), 0);
    const s = inceptionScore([0.9, 0.1, 0.2, 0.8], 2);
    const kl = (p: number[]) => p[0] * Math.log(p[0] / 0.55) + p[1] * Math.log(p[1] / 0.45);
    expect(s.score).toBeCloseTo(Math.exp((kl([0.9, 0.1]) + kl([0.2, 0.8])) / 2), 14);
    expect(Math.log(s.score)).toBeCloseTo(h([0.55, 0.45]) - (h([0.9, 0.1]) + h([0.2, 0.8])) / 2, 14);
    expect(() => inceptionScore([0.5, 0.5, 1], 2)).toThrow(RangeError);
  });
});

describe('digitProbabilities', () => {
  it('spreads "not a digit" evenly over the ten digits and counts junk by the most probable output', () => {
    const junk = [...new Array(10).fill(0.01), 0.9];
    const seven = Array.from({ length: 11 }, (_, k) => (k === 7 ? 0.8 : k === 10 ? 0.1 : 0.1 / 9));
    const { digits, junkShare } = digitProbabilities([...junk, ...seven]);
    expect(junkShare).toBe(0.5);
    expect(digits[0]).toBeCloseTo(0.01 + 0.09, 12);
    expect(digits[10 + 7]).toBeCloseTo(0.8 + 0.01, 12);
    for (const row of [0, 1]) expect(digits.subarray(row * 10, row * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // All junk: every row uniform over the digits, so IS = 1 (a renormalisation over the digits would divide by 0).
    const allJunk = digitProbabilities([...new Array(10).fill(0), 1, ...new Array(10).fill(0), 1]);
    expect(inceptionScore(allJunk.digits, 10).score).toBe(1);
  });
});

// A 2-epoch 14×14 classifier (≈ 1–2 s to train) in a temporary cache, as digit-classifier.test.ts; the default is 10 epochs.
const SHAPE = [14, 14, 1];
const INFO = { range: [-1, 1] as [number, number] };
let cacheDir: string;
let metric: Metric;
let real: Float32Array; // the 999 held-out digits in model space, digit by digit
const rows = (x: Float32Array, from: number, to: number) => x.slice(from * 196, to * 196);
const detailsOf = (r: MetricResult) => (typeof r === 'number' ? { value: r } : { value: r.value, ...r.details }) as { value: number } & Record<string, number>;

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'dl-digit-is-'));
  metric = (await digitInceptionScoreMetric.create(parseOptions(digitInceptionScoreOptions, { epochs: 2, cacheDir }, 'evaluation.metrics[0]'), {
    seed: 0,
    print: () => {},
    interactive: false,
  })) as Metric;
  const { heldOut } = await loadDigitSplit(14, 0, 0.1);
  real = heldOut.x.map((g) => 2 * g - 1);
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('digit-inception-score', () => {
  it('scores real held-out digits far above noise images', async () => {
    const r = detailsOf(await metric.compute(real, rows(real, 0, 100), ctxFor(SHAPE, INFO)));
    // Measured 7.08 for this 2-epoch classifier (8.83 for the default 10 epochs); 10 is the ceiling.
    expect(r.value).toBeGreaterThan(6.5);
    expect(r.value).toBeLessThanOrEqual(10);
    expect(r.digitIsJunk).toBeLessThan(0.02);
    expect(r.digitIsMarginalEntropy).toBeGreaterThan(2.25); // ln 10 = 2.303: the held-out digits are nearly balanced (measured 2.298)
    expect(Math.log(r.value)).toBeCloseTo(r.digitIsMarginalEntropy - r.digitIsConditionalEntropy, 12);
    expect(r.digitIsClassifierAccuracy).toBeGreaterThan(0.9);
    const rng = new Rng(3);
    const noise = new Float32Array(300 * 196).map(() => rng.normal());
    const n = detailsOf(await metric.compute(noise, rows(real, 0, 100), ctxFor(SHAPE, INFO)));
    expect(n.value).toBeLessThan(1.5); // measured 1 (every sample read as "not a digit")
    expect(n.digitIsJunk).toBeGreaterThan(0.9);
  });

  it('gives about 1 for real images of a single digit (no diversity)', async () => {
    // The split lists held-out digits digit by digit: rows 0 … 97 are zeros (98 of 980 held out).
    const r = detailsOf(await metric.compute(rows(real, 0, 90), real, ctxFor(SHAPE, INFO)));
    expect(r.value).toBeLessThan(1.6); // measured 1.26
  });

  it('fails clearly on data that are not digit images, and gives NaN for diverged samples', async () => {
    const two = new Float32Array(10);
    await expect(metric.compute(two, two, ctxFor([2]))).rejects.toThrow(PluginError);
    await expect(metric.compute(two, two, ctxFor([2]))).rejects.toThrow(/"digit-inception-score": needs 28×28 or 14×14/);
    await expect(metric.compute(rows(real, 0, 2), rows(real, 0, 2), ctxFor(SHAPE, { range: [0, 1] }))).rejects.toThrow(/\[-1, 1\]/);
    const bad = rows(real, 0, 2);
    bad[5] = Number.NaN;
    expect(await metric.compute(bad, rows(real, 0, 2), ctxFor(SHAPE, INFO))).toMatchObject({ value: Number.NaN, details: { nonFiniteGenerated: 1 } });
  });

  it('rejects options it does not have', () => {
    expect(() => parseOptions(digitInceptionScoreOptions, { threshold: 0.9 }, 'evaluation.metrics[0]')).toThrow(/evaluation\.metrics\[0\]\.threshold/);
  });
});
