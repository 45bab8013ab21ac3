/**
 * Every built-in dataset passes the shared dataset conformance suite of @diffusionlab/testkit
 * (shapes, seeded determinism, reference and perfect draws, a reference independent of the
 * training set where documented, bad options refused at their key), at small sizes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DatasetConformanceOptions, datasetConformance } from '@diffusionlab/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { plugins } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'dl-dataset-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const csv = join(dir, 'points.csv');
writeFileSync(csv, `x,y\n${Array.from({ length: 50 }, (_, i) => `${i / 10},${Math.sin(i).toFixed(6)}`).join('\n')}\n`);

const toy: DatasetConformanceOptions = {
  optionsList: [{ size: 200 }, { size: 100, fresh: true, standardize: false }],
  invalid: [
    { options: { noise: -1 }, path: 'dataset.noise' },
    { options: { size: 0 }, path: 'dataset.size' },
  ],
};

/** The settings each built-in plugin is tested with; every plugin must have an entry. */
const settings: Record<string, DatasetConformanceOptions> = {
  'gaussian-mixture': {
    optionsList: [
      {
        components: [
          { mean: -2, std: 0.5 },
          { mean: 2, std: 0.5 },
        ],
        size: 200,
      },
      {
        components: [
          { mean: [0, 1], std: 0.3, weight: 2 },
          { mean: [1, -1], std: [0.2, 0.4] },
        ],
        stratified: false,
        epochSize: 64,
      },
    ],
    invalid: [
      { options: { components: [{ mean: 0, std: -1 }] }, path: 'dataset.components[0].std' },
      { options: { components: [{ mean: [0, 1], std: 1 }], dim: 3 }, path: 'dataset.components[0].mean' },
    ],
  },
  moons: toy,
  'swiss-roll': toy,
  'eight-gaussians': toy,
  checkerboard: toy,
  circles: toy,
  rings: toy,
  pinwheel: toy,
  'two-spirals': toy,
  file: {
    optionsList: [
      { path: csv, holdout: 0.2 },
      { path: csv, holdout: 0, standardize: true },
    ],
    // holdout 0 is documented to evaluate against the training rows (with a warning).
    independentReference: (raw) => raw.holdout !== 0,
    invalid: [
      { options: { path: csv, holdout: 0.95 }, path: 'dataset.holdout' },
      { options: { path: join(dir, 'absent.csv') }, path: 'dataset.path' },
    ],
  },
  points: {
    optionsList: [
      { points: Array.from({ length: 40 }, (_, i) => [Math.cos(i), Math.sin(i) + i / 40]), holdout: 0.25 },
      { points: Array.from({ length: 30 }, (_, i) => i / 3 - 5), holdout: 0, standardize: true },
    ],
    // holdout 0 is documented to evaluate against the training rows (with a warning).
    independentReference: (raw) => raw.holdout !== 0,
    invalid: [
      { options: { points: [[0, 1], [2]] }, path: 'dataset.points[1]' },
      { options: { points: [1] }, path: 'dataset.points' },
      {
        options: {
          points: [
            [0, 1],
            [1, 2],
          ],
          holdout: 0.95,
        },
        path: 'dataset.holdout',
      },
    ],
  },
  digits: {
    optionsList: [{ digits: [0, 1], resolution: 14, size: 40 }],
    invalid: [
      { options: { digits: [10] }, path: 'dataset.digits[0]' },
      { options: { digits: [0], size: 100_000 }, path: 'dataset.size' },
    ],
  },
};

describe('built-in datasets', () => {
  it('each has conformance settings', () => {
    expect(plugins.map((p) => p.name).filter((name) => !(name in settings))).toEqual([]);
  });
});

for (const plugin of plugins) if (settings[plugin.name]) datasetConformance(plugin, settings[plugin.name]);
