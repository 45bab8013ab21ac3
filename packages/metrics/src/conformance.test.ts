/**
 * Every built-in metric passes the shared metric conformance suite of @diffusionlab/testkit: two
 * draws of one distribution score within the noise floor, identical inputs at or below it, a
 * shifted distribution worse; deterministic per ctx seed; mismatched shapes refused by name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rng } from '@diffusionlab/core';
import { type MetricConformanceOptions, type MetricSource, metricConformance } from '@diffusionlab/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDigitSplit } from './digit-classifier.js';
import { plugins } from './index.js';

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
};

describe('built-in metrics', () => {
  it('each has conformance settings', () => {
    expect(plugins.map((p) => p.name).filter((name) => !(name in settings))).toEqual([]);
  });
});

for (const plugin of plugins) if (settings[plugin.name]) metricConformance(plugin, settings[plugin.name]);
