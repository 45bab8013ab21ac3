import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Metric, type MetricResult, PluginError, parseOptions, Rng } from '@diffusionlab/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDigitClassifier, loadDigitSplit } from './digit-classifier.js';
import { digitFrechetDistance, digitFrechetDistanceMetric, digitFrechetDistanceOptions } from './digit-frechet-distance.js';
import { frechetDistance, meanAndCovariance } from './linalg.js';
import { hiddenActivations } from './mlp-classifier.js';
import { ctxFor } from './test-helpers.js';

// A 2-epoch 14×14 classifier (≈ 1–2 s to train) in a temporary cache, as digit-classifier.test.ts; the default is 10 epochs.
const SHAPE = [14, 14, 1];
const INFO = { range: [-1, 1] as [number, number] };
let cacheDir: string;
let metric: Metric;
let real: Float32Array; // the 999 held-out digits in model space, shuffled
const rows = (x: Float32Array, from: number, to: number) => x.slice(from * 196, to * 196);
const detailsOf = (r: MetricResult) => (typeof r === 'number' ? { value: r } : { value: r.value, ...r.details }) as { value: number } & Record<string, number>;

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'dl-digit-fd-'));
  metric = (await digitFrechetDistanceMetric.create(parseOptions(digitFrechetDistanceOptions, { epochs: 2, cacheDir }, 'evaluation.metrics[0]'), {
    seed: 0,
    print: () => {},
    interactive: false,
  })) as Metric;
  // Held-out digits in a fixed shuffled order (the split lists them digit by digit), in model space.
  const { heldOut } = await loadDigitSplit(14, 0, 0.1);
  const order = new Rng(2).permutation(heldOut.labels.length);
  real = new Float32Array(heldOut.x.length);
  order.forEach((src, k) => {
    for (let p = 0; p < 196; p++) real[k * 196 + p] = 2 * heldOut.x[src * 196 + p] - 1;
  });
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('digit-frechet-distance', () => {
  it('puts two real draws far closer together than real digits and noise', async () => {
    const a = rows(real, 0, 400);
    const b = rows(real, 400, 800);
    const same = detailsOf(await metric.compute(a, b, ctxFor(SHAPE, INFO)));
    const rng = new Rng(3);
    const noise = new Float32Array(400 * 196).map(() => rng.normal());
    const far = detailsOf(await metric.compute(noise, b, ctxFor(SHAPE, INFO)));
    // Measured: real vs real 1.34, noise vs real 994 (2-epoch classifier, 400 images a side).
    expect(same.value).toBeGreaterThan(0);
    expect(far.value).toBeGreaterThan(200 * same.value);
    expect(same.value).toBeCloseTo(same.digitFdMeanTerm + same.digitFdCovarianceTerm, 10);
    expect(same.digitFdFeatures).toBe(128);
    expect(same.digitFdClassifierAccuracy).toBeGreaterThan(0.9);
  });

  it('gives 0 for identical sets, and the moments formula on the classifier features', async () => {
    const a = rows(real, 0, 300);
    // Not exactly 0: A = Σ^{1/2}ΣΣ^{1/2} squares Σ's eigenvalues, so those below ≈ 1e-7·max are lost to round-off (measured 3.8e-7).
    expect(detailsOf(await metric.compute(a, a.slice(), ctxFor(SHAPE, INFO))).value).toBeLessThan(1e-5);
    const c = await loadDigitClassifier({ resolution: 14, hidden: 128, epochs: 2, seed: 0, splitSeed: 0, holdout: 0.1 }, cacheDir);
    const b = rows(real, 300, 600);
    const h = (x: Float32Array) =>
      meanAndCovariance(
        hiddenActivations(
          c.net,
          x.map((v) => (v + 1) / 2),
        ),
        300,
        128,
      );
    const ha = h(a);
    const hb = h(b);
    expect(digitFrechetDistance(c.net, a, b).distance).toBeCloseTo(frechetDistance(ha.mean, ha.cov, hb.mean, hb.cov, 128).distance, 10);
  });

  it('fails clearly on data that are not digit images or too few to have a covariance, and gives NaN for diverged samples', async () => {
    const two = new Float32Array(10);
    await expect(metric.compute(two, two, ctxFor([2]))).rejects.toThrow(PluginError);
    await expect(metric.compute(two, two, ctxFor([2]))).rejects.toThrow(/"digit-frechet-distance": needs 28×28 or 14×14/);
    await expect(metric.compute(rows(real, 0, 2), rows(real, 0, 2), ctxFor(SHAPE, { range: [0, 1] }))).rejects.toThrow(/\[-1, 1\]/);
    await expect(metric.compute(rows(real, 0, 1), rows(real, 0, 5), ctxFor(SHAPE, INFO))).rejects.toThrow(/needs at least 2 generated/);
    const bad = rows(real, 0, 3);
    bad[5] = Number.NaN;
    expect(await metric.compute(bad, rows(real, 0, 3), ctxFor(SHAPE, INFO))).toMatchObject({ value: Number.NaN, details: { nonFiniteGenerated: 1 } });
  });
});
