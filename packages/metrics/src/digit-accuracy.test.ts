import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Metric, type MetricResult, PluginError, parseOptions } from '@diffusionlab/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digitAccuracyMetric, scoreRequestedDigits } from './digit-accuracy.js';
import { digitClassifierOptions, loadDigitSplit } from './digit-classifier.js';
import { ctxFor } from './test-helpers.js';

// A 2-epoch 14×14 classifier (≈ 1–2 s to train) in a temporary cache; the default is 10 epochs.
const SHAPE = [14, 14, 1];
const INFO = { range: [-1, 1] as [number, number] };
const NAMES = Array.from({ length: 10 }, (_, c) => String(c));
let cacheDir: string;
let metric: Metric;
let real: Float32Array; // held-out digits in model space
let labels: Int32Array;

type Details = {
  value: number;
  digitAccuracyPerClass: number[];
  digitAccuracyConfidentPerClass: number[];
  digitAccuracyConfidentCorrect: number;
  digitAccuracyConfidentShare: number;
  digitAccuracyClassifier: number;
};
const detailsOf = (r: MetricResult) => (typeof r === 'number' ? { value: r } : { value: r.value, ...r.details }) as Details;
const ctxWith = (samples: Int32Array, reference: Int32Array) => ({ ...ctxFor(SHAPE, INFO), labels: { samples, reference, names: NAMES } });

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'dl-digit-accuracy-'));
  metric = (await digitAccuracyMetric.create(parseOptions(digitClassifierOptions, { epochs: 2, cacheDir }, 'evaluation.metrics[0]'), {
    seed: 0,
    print: () => {},
    interactive: false,
  })) as Metric;
  const { heldOut } = await loadDigitSplit(14, 0, 0.1);
  real = heldOut.x.map((g) => 2 * g - 1);
  labels = heldOut.labels;
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('scoreRequestedDigits', () => {
  it('counts a sample correct when its most probable output is the requested digit, confident at ≥ threshold', () => {
    const p = (c: number, q: number) => Array.from({ length: 11 }, (_, k) => (k === c ? q : (1 - q) / 10));
    // Requested 7, 7, 7, 2, 2: read as 7 (sure), 7 (unsure), 1 (sure), junk, 2 (sure).
    const probs = new Float32Array([...p(7, 0.95), ...p(7, 0.5), ...p(1, 0.97), ...p(10, 0.9), ...p(2, 0.91)]);
    const s = scoreRequestedDigits(probs, Int32Array.from([7, 7, 7, 2, 2]), 0.9);
    expect(s.accuracy).toBeCloseTo(3 / 5, 12);
    expect(s.confidentCorrect).toBeCloseTo(2 / 5, 12);
    expect(s.confidentShare).toBeCloseTo(3 / 5, 12);
    expect(s.accuracyPerClass[7]).toBeCloseTo(2 / 3, 12);
    expect(s.accuracyPerClass[2]).toBeCloseTo(1 / 2, 12);
    expect(s.confidentPerClass[7]).toBeCloseTo(2 / 3, 12); // the confident 1 counts: "confidently some digit"
    expect(s.confidentPerClass[2]).toBeCloseTo(1 / 2, 12);
    expect(s.accuracyPerClass[0]).toBeNaN();
    expect(s.requestedPerClass).toEqual([0, 0, 2, 0, 0, 0, 0, 3, 0, 0]);
  });
});

describe('digit-accuracy', () => {
  it('on every real held-out digit with its true class (the floor) equals the classifier’s held-out accuracy', async () => {
    const r = detailsOf(await metric.compute(real, real, ctxWith(labels, labels)));
    // The same images, labels and argmax rule as the classifier's own accuracy, computed independently.
    expect(r.value).toBeCloseTo(r.digitAccuracyClassifier, 3);
    expect(r.value).toBeGreaterThan(0.9);
    for (const a of r.digitAccuracyPerClass) expect(a).toBeGreaterThan(0.75);
    expect(r.digitAccuracyConfidentCorrect).toBeLessThanOrEqual(r.value);
    expect(r.digitAccuracyConfidentCorrect).toBeLessThanOrEqual(r.digitAccuracyConfidentShare);
  });

  it('scores real digits requested as another class near 0', async () => {
    const wrong = labels.map((c) => (c + 1) % 10);
    const r = detailsOf(await metric.compute(real, real, ctxWith(wrong, labels)));
    // Only misclassifications that happen to land on c + 1 count: at most 1 − accuracy.
    expect(r.value).toBeLessThan(0.05);
    // Confidence is about the image, not the request: unchanged.
    const right = detailsOf(await metric.compute(real, real, ctxWith(labels, labels)));
    expect(r.digitAccuracyConfidentShare).toBe(right.digitAccuracyConfidentShare);
  });

  it('refuses unlabelled runs and non-digit class sets, naming the metric', async () => {
    const x = real.slice(0, 4 * 196);
    expect(() => metric.check?.({ shape: SHAPE, info: INFO })).toThrow(PluginError);
    expect(() => metric.check?.({ shape: SHAPE, info: INFO })).toThrow(/Metric "digit-accuracy": this run generates without class labels/);
    expect(() => metric.check?.({ shape: SHAPE, info: INFO, labelNames: ['a', 'b'] })).toThrow(/ten digit classes 0…9, but this run has 2 classes/);
    expect(() => metric.check?.({ shape: SHAPE, info: INFO, labelNames: NAMES })).not.toThrow();
    await expect(metric.compute(x, x, ctxFor(SHAPE, INFO))).rejects.toThrow(/Metric "digit-accuracy": the samples come without class labels/);
    const two = Int32Array.from([0, 1, 0, 1]);
    await expect(metric.compute(x, x, { ...ctxFor(SHAPE, INFO), labels: { samples: two, reference: two, names: ['a', 'b'] } })).rejects.toThrow(/expects the ten digit classes/);
    const four = Int32Array.from([0, 1, 2, 3]);
    await expect(metric.compute(x, x, { ...ctxWith(four, four), shape: [2] })).rejects.toThrow(/Metric "digit-accuracy": needs 28×28 or 14×14/);
  });
});
