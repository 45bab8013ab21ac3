/**
 * Every built-in metric passes the shared metric conformance suite of @diffusionlab/testkit: two
 * draws of one distribution score within the noise floor, identical inputs at or below it, a
 * shifted distribution worse; deterministic per ctx seed; mismatched shapes refused by name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GaussianMixtureInfo, PluginDefinition, Rng } from '@diffusionlab/core';
import { type MetricConformanceOptions, type MetricSource, metricConformance } from '@diffusionlab/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDigitSplit } from './digit-classifier.js';
import { plugins } from './index.js';
import { drawByRow, withRowLabels } from './test-helpers.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'dl-metric-conformance-'));
// The digit classifier caches into $DIFFUSIONLAB_CACHE: a temporary one, so the test trains its own.
process.env.DIFFUSIONLAB_CACHE = cacheDir;
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

/** Held-out MNIST digits at 14×14 in model space [-1, 1], drawn with the rng (the digits dataset's reference pool). */
function digitSource(): MetricSource {
  let pool: Promise<Float32Array> | undefined;
  const images = () => {
    pool ??= loadDigitSplit(14, 0, 0.1).then(({ heldOut }) => heldOut.x.map((g) => 2 * g - 1));
    return pool;
  };
  const draw = async (n: number, rng: Rng) => {
    const x = await images();
    const rows = x.length / 196;
    const perm = rng.permutation(rows);
    const out = new Float32Array(n * 196);
    for (let k = 0; k < n; k++) out.set(x.subarray(perm[k % rows] * 196, (perm[k % rows] + 1) * 196), k * 196);
    return out;
  };
  return { shape: [14, 14, 1], info: { range: [-1, 1] }, draw };
}

/**
 * Held-out digits with row i of digit i mod 10 (the labelled source {@link withRowLabels} expects);
 * the shifted draw gives row i digit (i + 1) mod 10, i.e. the wrong class for its request.
 */
function labelledDigitSource(): MetricSource {
  let pool: Promise<Float32Array[]> | undefined;
  const byDigit = () => {
    pool ??= loadDigitSplit(14, 0, 0.1).then(({ heldOut }) =>
      Array.from({ length: 10 }, (_, c) => {
        const rows = [...heldOut.labels.keys()].filter((i) => heldOut.labels[i] === c);
        const out = new Float32Array(rows.length * 196);
        rows.forEach((r, k) => {
          for (let p = 0; p < 196; p++) out[k * 196 + p] = 2 * heldOut.x[r * 196 + p] - 1;
        });
        return out;
      }),
    );
    return pool;
  };
  const draw = (offset: number) => async (n: number, rng: Rng) => {
    const digits = await byDigit();
    const out = new Float32Array(n * 196);
    for (let i = 0; i < n; i++) {
      const x = digits[(i + offset) % 10];
      const r = rng.int(x.length / 196);
      out.set(x.subarray(r * 196, (r + 1) * 196), i * 196);
    }
    return out;
  };
  return { shape: [14, 14, 1], info: { range: [-1, 1] }, draw: draw(0), shifted: draw(1) };
}

/** Three well separated 2-D Gaussians (std 0.5) drawn with row i from component i mod 3. */
const THREE: GaussianMixtureInfo = {
  weights: [1 / 3, 1 / 3, 1 / 3],
  means: [
    [-2, 0],
    [2, 0],
    [0, 2.5],
  ],
  stds: [
    [0.5, 0.5],
    [0.5, 0.5],
    [0.5, 0.5],
  ],
};
const labelledMixture = (shifted: MetricSource['shifted']): MetricSource => ({ shape: [2], info: {}, draw: (n, rng) => drawByRow(THREE, n, rng), shifted });
const DIGIT_NAMES = Array.from({ length: 10 }, (_, c) => String(c));

/** Metrics that need class labels: the suite runs them through {@link withRowLabels} with these class names. */
const labelled: Record<string, readonly string[]> = {
  'component-accuracy': ['a', 'b', 'c'],
  'class-diversity': ['a', 'b', 'c'],
  'digit-accuracy': DIGIT_NAMES,
};

/** The settings each built-in plugin is tested with (default source: a 2-D three-Gaussian mixture); every plugin must have an entry. */
const settings: Record<string, MetricConformanceOptions> = {
  w1: { invalid: [{ options: { p: 2 }, path: 'metric.p' }] },
  'sliced-wasserstein': { optionsList: [{}, { projections: 16, seed: 3 }], invalid: [{ options: { projections: 0 }, path: 'metric.projections' }] },
  mmd: { optionsList: [{}, { bandwidths: [0.5, 2], maxPoints: 200 }], invalid: [{ options: { maxPoints: 1 }, path: 'metric.maxPoints' }] },
  energy: { optionsList: [{}, { maxPoints: 200, seed: 1 }], invalid: [{ options: { maxPoints: 1 }, path: 'metric.maxPoints' }] },
  modes: { optionsList: [{}, { radius: 1 }], invalid: [{ options: { radius: -1 }, path: 'metric.radius' }] },
  'pixel-stats': {},
  'digit-classifier': {
    // A 2-epoch classifier in a temporary cache (trained once, ≈ 2 s); the default is 10 epochs.
    optionsList: [{ epochs: 2 }],
    source: digitSource(),
    n: 300,
    invalid: [{ options: { threshold: 0 }, path: 'metric.threshold' }],
  },
  // Shifted: every sample drawn from the component after the one requested.
  'component-accuracy': {
    optionsList: [{}, { k: 1, maxReference: 200, seed: 2 }],
    source: labelledMixture((n, rng) => drawByRow(THREE, n, rng, 1)),
    invalid: [{ options: { k: 0 }, path: 'metric.k' }],
  },
  // Shifted: each class collapsed to a fifth of its spread.
  'class-diversity': {
    optionsList: [{}, { maxPerClass: 50, seed: 1 }],
    source: labelledMixture((n, rng) => drawByRow(THREE, n, rng, 0, 0.2)),
    invalid: [{ options: { maxPerClass: 1 }, path: 'metric.maxPerClass' }],
  },
  'digit-accuracy': { optionsList: [{ epochs: 2 }], source: labelledDigitSource(), n: 300, invalid: [{ options: { threshold: 2 }, path: 'metric.threshold' }] },
  // Same 2-epoch classifier (one cache file for all four digit metrics); shifted: every pixel + 1, i.e. washed-out images.
  'digit-inception-score': { optionsList: [{ epochs: 2 }], source: digitSource(), n: 300, invalid: [{ options: { threshold: 0.9 }, path: 'metric.threshold' }] },
  'digit-frechet-distance': { optionsList: [{ epochs: 2 }], source: digitSource(), n: 300, invalid: [{ options: { hidden: 4 }, path: 'metric.hidden' }] },
};

describe('built-in metrics', () => {
  it('each has conformance settings', () => {
    expect(plugins.map((p) => p.name).filter((name) => !(name in settings))).toEqual([]);
  });
});

for (const p of plugins) {
  if (!settings[p.name]) continue;
  // biome-ignore lint/suspicious/noExplicitAny: every entry of this package's plugins is a metric plugin.
  const plugin = p as PluginDefinition<'metric', any>;
  const names = labelled[p.name];
  metricConformance(names ? withRowLabels(plugin, names) : plugin, settings[p.name]);
}
