import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions, Rng } from '@diffusionlab/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type FileDataset, fileDataset } from './file.js';

// A 1-D two-Gaussian mixture, ½·N(−2, 0.5²) + ½·N(2, 0.5²): the generating process of the CSV.
const mixture = (n: number, rng: Rng): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() < 0.5 ? -2 : 2) + 0.5 * rng.normal());

/** Exact 1-D Wasserstein-1 between two equal-size samples: the mean gap between sorted values. */
const w1 = (a: Float32Array, b: Float32Array): number => {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i] - y[i]);
  return s / x.length;
};

const dir = mkdtempSync(join(tmpdir(), 'dl-floor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const csv = join(dir, 'mixture.csv');
writeFileSync(csv, `x\n${Array.from(mixture(3000, new Rng(2026)), (v) => v.toPrecision(9)).join('\n')}\n`);
const ctx = { seed: 0, print: () => {}, interactive: false };
const make = async (raw: Record<string, unknown>) => (await fileDataset.create(parseOptions(fileDataset.options, { path: csv, ...raw }, 'dataset'), ctx)) as FileDataset;

/** Mean and standard deviation of `score(seed)` over 40 seeds. */
const spread = (score: (seed: number) => number) => {
  const v = Array.from({ length: 40 }, (_, s) => score(s));
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
  return { mean, sd, se: sd / Math.sqrt(v.length) };
};
/** W1 of i.i.d. draws of n from the true mixture against `reference`, over 40 seeds. */
const truthSpread = (reference: Float32Array, n: number) => spread((s) => w1(mixture(n, new Rng(1000 + s)), reference));

describe('file: noise floor', () => {
  // n = 1000 exceeds the 300 held-out rows (the reference repeats rows); n = 300 uses every one of them.
  for (const n of [1000, 300]) {
    it(`at evaluation.samples=${n} lies within the spread of true i.i.d. draws against the same reference`, async () => {
      const ds = await make({});
      const reference = ds.reference(n, new Rng(1).fork('reference')) as Float32Array;
      const truth = truthSpread(reference, n);
      // Each reported floor (one per run seed) lies within the spread of true draws…
      const floors = spread((s) => w1(ds.perfectDraw!(n, new Rng(s).fork('reference-floor')) as Float32Array, reference));
      for (const seed of [1, 2, 3]) {
        const floor = w1(ds.perfectDraw!(n, new Rng(seed).fork('reference-floor')) as Float32Array, reference);
        expect(floor).toBeGreaterThan(0);
        expect(Math.abs(floor - truth.mean)).toBeLessThan(3 * truth.sd);
      }
      // …and on average agrees with them (to 4 standard errors of the difference).
      const se = Math.hypot(truth.se, floors.se);
      expect(Math.abs(floors.mean - truth.mean)).toBeLessThan(4 * se);
      // The old floor — a second draw from the same held-out rows — flatters: far below on average.
      const reused = spread((s) => w1(ds.reference(n, new Rng(s).fork('reference-floor')) as Float32Array, reference));
      expect(reused.mean).toBeLessThan(truth.mean - 4 * Math.hypot(truth.se, reused.se));
      // Training rows are plentiful, so no floor warning (only the reference's own note at n = 1000).
      expect(ds.warnings.filter((w) => /noise floor/.test(w))).toEqual([]);
    });
  }

  it('never overlaps the reference, also with holdout 0 (fixed halves)', async () => {
    const ds = await make({ holdout: 0 });
    const ref = new Set(Array.from(ds.reference(1500, new Rng(1)) as Float32Array));
    const floor = ds.perfectDraw!(1500, new Rng(2)) as Float32Array;
    expect(ref.size).toBe(1500);
    for (const v of floor) expect(ref.has(v)).toBe(false);
    const { mean, sd } = truthSpread(ds.reference(1500, new Rng(1)) as Float32Array, 1500);
    expect(Math.abs(w1(floor, ds.reference(1500, new Rng(1)) as Float32Array) - mean)).toBeLessThan(3 * sd);
  });

  it('warns, and errs high rather than low, when too few disjoint rows exist', async () => {
    // 3000 rows with holdout 0.9: 2700 held out for the reference, only 300 training rows for the floor.
    const ds = await make({ holdout: 0.9 });
    const n = 1000;
    const reference = ds.reference(n, new Rng(5)) as Float32Array;
    const floor = w1(ds.perfectDraw!(n, new Rng(6)) as Float32Array, reference);
    expect(ds.warnings).toHaveLength(1);
    expect(ds.warnings[0]).toMatch(
      /noise floor needs 1000 points disjoint from the reference but only 300 training rows exist; drawn with replacement, so the floor is conservative.*evaluation\.samples to at most 300/,
    );
    const { mean, sd } = truthSpread(reference, n);
    expect(floor).toBeGreaterThan(mean - 3 * sd);
  });
});
