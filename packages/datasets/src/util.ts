/**
 * Helpers shared by the dataset plugins: standardisation, stratified counts, row shuffles and
 * config errors with full key paths.
 */
import { ConfigError, type DatasetInfo, type Rng } from '@diffusionlab/core';

/** Key path prefix of every dataset option, so messages read `dataset.components[1].std`. */
export const DATASET_PATH = 'dataset';

/** Throws a ConfigError at `dataset.<key>`; one place so every plugin words paths the same way. */
export function fail(key: string, message: string, choices?: readonly string[]): never {
  throw new ConfigError({ path: key === '' ? DATASET_PATH : `${DATASET_PATH}.${key}`, message, choices });
}

/** Per-dimension affine map x_model = (x_raw − mean) / std, the form `DatasetInfo.standardization` records. */
export type Standardization = NonNullable<DatasetInfo['standardization']>;

/**
 * Per-column mean and population standard deviation (ddof = 0, as NumPy's default), computed in
 * float64 with a two-pass sum so large offsets do not lose precision. A constant column gets std 1
 * so the map stays invertible instead of dividing by zero.
 */
export function columnStats(data: ArrayLike<number>, count: number, dim: number): Standardization {
  const mean = new Array<number>(dim).fill(0);
  const std = new Array<number>(dim).fill(0);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) mean[j] += data[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= count;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) {
      const d = data[i * dim + j] - mean[j];
      std[j] += d * d;
    }
  }
  for (let j = 0; j < dim; j++) {
    const s = Math.sqrt(std[j] / count);
    std[j] = s > 0 && Number.isFinite(s) ? s : 1;
  }
  return { mean, std };
}

/** Applies x ← (x − mean) / std in place, row-major with `dim` columns; returns the same array. */
export function standardizeInPlace(data: Float32Array, s: Standardization): Float32Array {
  const dim = s.mean.length;
  for (let i = 0; i < data.length; i++) {
    const j = i % dim;
    data[i] = (data[i] - s.mean[j]) / s.std[j];
  }
  return data;
}

/** The inverse map x_raw = x_model·std + mean, for reporters that plot in the data's own units. */
export function unstandardize(data: Float32Array, s: Standardization): Float32Array {
  const dim = s.mean.length;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const j = i % dim;
    out[i] = data[i] * s.std[j] + s.mean[j];
  }
  return out;
}

/**
 * Splits `total` into integer counts proportional to `weights` that sum exactly to `total`
 * (Hamilton's largest-remainder method), so a stratified draw of 1000 at weights ½, ½ is 500/500
 * as in the reference, and ties go to the earlier component.
 */
export function largestRemainder(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k++, left--) counts[order[k % order.length].i]++;
  return counts;
}

/**
 * Shuffles whole rows of a row-major array (Fisher–Yates via `rng.permutation`), as `np.random.shuffle`
 * does; `labels`, when given, is permuted in place with the same rows (no extra random numbers).
 */
export function shuffleRows(data: Float32Array, dim: number, rng: Rng, labels?: Int32Array): Float32Array {
  const count = data.length / dim;
  const perm = rng.permutation(count);
  const out = new Float32Array(data.length);
  for (let i = 0; i < count; i++) out.set(data.subarray(perm[i] * dim, perm[i] * dim + dim), i * dim);
  if (labels) {
    const before = labels.slice();
    for (let i = 0; i < count; i++) labels[i] = before[perm[i]];
  }
  return out;
}

/**
 * Indices of n rows drawn from a finite pool of `poolRows` rows: without replacement (a partial
 * Fisher–Yates shuffle) when n ≤ poolRows, else with replacement. Returns whether replacement was
 * needed, so the caller can warn that the draw repeats rows; one routine so every finite dataset
 * consumes its rng the same way.
 */
export function sampleIndices(poolRows: number, n: number, rng: Rng): { idx: Uint32Array; replaced: boolean } {
  const out = new Uint32Array(n);
  if (n <= poolRows) {
    const idx = Uint32Array.from({ length: poolRows }, (_, k) => k);
    for (let k = 0; k < n; k++) {
      const j = k + rng.int(poolRows - k);
      const t = idx[k];
      idx[k] = idx[j];
      idx[j] = t;
      out[k] = idx[k];
    }
    return { idx: out, replaced: false };
  }
  for (let k = 0; k < n; k++) out[k] = rng.int(poolRows);
  return { idx: out, replaced: true };
}

/**
 * n rows drawn from a finite pool of `poolRows` rows (see {@link sampleIndices}). Returns whether
 * replacement was needed, so the caller can warn that the reference set repeats points.
 */
export function sampleRows(pool: Float32Array, poolRows: number, dim: number, n: number, rng: Rng): { data: Float32Array; replaced: boolean } {
  const { idx, replaced } = sampleIndices(poolRows, n, rng);
  const out = new Float32Array(n * dim);
  for (let k = 0; k < n; k++) out.set(pool.subarray(idx[k] * dim, idx[k] * dim + dim), k * dim);
  return { data: out, replaced };
}
