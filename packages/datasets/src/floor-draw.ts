/**
 * Honest noise floors for datasets that hold only a finite sample (`file`, `digits`).
 *
 * The runner's noise floor of a metric is metric(perfectDraw(n), reference(n)): what a perfect
 * generator — one whose output is i.i.d. draws of the data distribution — would score. Two draws
 * from the same finite pool share rows, so they agree more closely than independent draws would (at
 * n = pool size they are the same set and the floor is 0), and a floor made that way flatters every
 * model. A floor draw therefore comes only from rows disjoint from every row the reference can use.
 * When that disjoint pool has fewer than n rows it is drawn with replacement: a resample of m < n
 * rows is further from the distribution than n i.i.d. draws, so the floor errs high, never low, and
 * a warning says so.
 */
import type { LabeledDraw, Rng } from '@diffusionlab/core';
import { sampleIndices } from './util.js';

/** Where a floor draw comes from: a pool of rows disjoint from the reference's, read one row at a time. */
export interface FloorPool {
  /** Rows in the pool (none of them can appear in a reference draw). */
  readonly rows: number;
  /** Values per row. */
  readonly dim: number;
  /** Writes row `row` of the pool (in model space) at `out[offset…offset+dim)`. */
  copy(row: number, out: Float32Array, offset: number): void;
  /** What the rows are, for the warning, e.g. "training rows". */
  readonly what: string;
}

/**
 * n rows from `pool` for the noise floor: without replacement when the pool is large enough, else
 * with replacement plus one warning (appended to `warnings` once) saying the floor is conservative
 * and how to make it exact.
 */
export function floorDraw(pool: FloorPool, n: number, rng: Rng, warnings: string[], source: string): Float32Array {
  return floorDrawRows(pool, n, rng, warnings, source).data;
}

/** {@link floorDraw} with each row's class from `labelOf(poolRow)`: the same rows for the same rng. */
export function floorDrawLabeled(pool: FloorPool, n: number, rng: Rng, warnings: string[], source: string, labelOf: (row: number) => number): LabeledDraw {
  const { data, idx } = floorDrawRows(pool, n, rng, warnings, source);
  return { data, labels: Int32Array.from(idx, labelOf) };
}

/** The floor draw and the pool rows it took. */
function floorDrawRows(pool: FloorPool, n: number, rng: Rng, warnings: string[], source: string): { data: Float32Array; idx: Uint32Array } {
  const { idx, replaced } = sampleIndices(pool.rows, n, rng);
  const out = new Float32Array(n * pool.dim);
  for (let k = 0; k < n; k++) pool.copy(idx[k], out, k * pool.dim);
  if (replaced) {
    const msg = `${source}: the noise floor needs ${n} points disjoint from the reference but only ${pool.rows} ${pool.what} exist; drawn with replacement, so the floor is conservative (a little above what ${n} i.i.d. draws would score). Set evaluation.samples to at most ${pool.rows}, or add data, for an exact floor.`;
    if (!warnings.includes(msg)) warnings.push(msg);
  }
  return { data: out, idx };
}
