import { type Dataset, definePlugin, Rng, z } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { checkDatasetDraw, checkDatasetLoad, checkDatasetShape, checkDisjointRows, datasetConformance } from './dataset-conformance.js';

/** Faults to inject, so each check is shown to fail on the fault it is for. */
interface Faults {
  mathRandom?: boolean;
  sharedArray?: boolean;
  shortDraw?: boolean;
  nan?: boolean;
  referenceIsTraining?: boolean;
  badMixture?: boolean;
}

/** N(0, 1) in `dim` dimensions, 32 fixed training rows drawn from the load seed. */
function normal(dim: number, f: Faults = {}): Dataset {
  const cache = new Float32Array(32 * dim);
  const draw = (n: number, rng: Rng) => {
    if (f.sharedArray) return cache;
    const x = Float32Array.from({ length: (f.shortDraw ? n - 1 : n) * dim }, () => (f.mathRandom ? Math.random() : rng.normal()));
    if (f.nan) x[0] = Number.NaN;
    return x;
  };
  return {
    name: 'normal',
    shape: [dim],
    info: { mixture: { weights: [1], means: [new Array(f.badMixture ? dim + 1 : dim).fill(0)], stds: [new Array(dim).fill(1)] } },
    load: (rng) => ({ data: f.referenceIsTraining ? new Rng(0).normalArray(32 * dim) : draw(32, rng), count: 32 }),
    reference: (n, rng) => (f.referenceIsTraining ? new Rng(0).normalArray(32 * dim).slice(0, n * dim) : draw(n, rng)),
  };
}

const plugin = definePlugin({
  kind: 'dataset',
  name: 'normal',
  description: 'Standard normal test data',
  options: z.object({ dim: z.number().int().positive().default(2).describe('Dimension') }).strict(),
  create: (o) => normal(o.dim),
});

datasetConformance(plugin, { optionsList: [{}, { dim: 3 }], invalid: [{ options: { dim: 0 }, path: 'dataset.dim' }] });

describe('dataset checks fail on the fault they are for', () => {
  it('info inconsistent with the shape', () => {
    expect(() => checkDatasetShape(normal(2, { badMixture: true }))).toThrow(/means\[0\] has 3 values, samples have 2/);
  });
  it('a draw of the wrong length, or with NaN', async () => {
    await expect(checkDatasetDraw(normal(2, { shortDraw: true }), 'reference', 8)).rejects.toThrow(/returned 14 values, expected 8/);
    await expect(checkDatasetDraw(normal(2, { nan: true }), 'reference', 8)).rejects.toThrow(/value 0 is NaN/);
  });
  it('Math.random draws', async () => {
    await expect(checkDatasetLoad(normal(2, { mathRandom: true }))).rejects.toThrow(/two load\(\) calls with seed 1 differ/);
    await expect(checkDatasetDraw(normal(2, { mathRandom: true }), 'reference')).rejects.toThrow(/different points on two calls/);
  });
  it('an array shared between calls', async () => {
    await expect(checkDatasetLoad(normal(2, { sharedArray: true }))).rejects.toThrow(/return a copy/);
  });
  it('a reference that ignores its rng and repeats training rows', async () => {
    const d = normal(2, { referenceIsTraining: true });
    await expect(checkDatasetDraw(d, 'reference', 8)).rejects.toThrow(/same points for seeds 11 and 12/);
    const training = (await d.load(new Rng(1))).data;
    expect(() => checkDisjointRows(d, training, d.reference(8, new Rng(1)) as Float32Array)).toThrow(/reference row 0 is also a training row/);
  });
  it('a missing perfectDraw', async () => {
    await expect(checkDatasetDraw(normal(2), 'perfectDraw')).rejects.toThrow(/perfectDraw is not defined/);
  });
});
