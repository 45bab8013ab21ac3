/**
 * Shared input handling for the metrics: shape checks, non-finite guards and seeded row
 * subsampling, so every metric validates its inputs the same way and fails with the same words.
 */
import { type MetricContext, type MetricResult, PluginError, Rng } from '@diffusionlab/core';

/** Number of scalars in one sample, prod(shape); metrics treat each sample as a flat vector. */
export function sampleSize(shape: readonly number[], metric: string): number {
  let d = 1;
  for (const s of shape) d *= s;
  if (!Number.isInteger(d) || d < 1) {
    throw new PluginError(`Metric "${metric}": sample shape [${shape.join(', ')}] has no elements.`, {
      hint: 'Pass ctx.shape as the shape of one sample, e.g. [1] for 1-D data or [28, 28, 1] for images.',
    });
  }
  return d;
}

/** Number of rows in a flat [n, d] array; throws a PluginError that names the metric and the array when it does not divide. */
export function rowCount(data: Float32Array, d: number, metric: string, which: 'generated' | 'reference', minRows = 1): number {
  if (data.length % d !== 0) {
    throw new PluginError(`Metric "${metric}": the ${which} array has ${data.length} values, which is not a whole number of samples of size ${d}.`, {
      hint: 'Check that ctx.shape matches the data (samples are laid out row-major [n, …shape]).',
    });
  }
  const n = data.length / d;
  if (n < minRows) {
    throw new PluginError(`Metric "${metric}": needs at least ${minRows} ${which} sample(s), got ${n}.`);
  }
  return n;
}

/** Count of NaN/±Infinity entries; a diverged sampler produces them and the metric must say so rather than crash. */
export function countNonFinite(data: Float32Array): number {
  let k = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) k++;
  return k;
}

/**
 * Validates both sets and returns their row counts, or an early NaN result (with
 * `details.nonFiniteGenerated`) when the generated samples contain NaN/Infinity, so a diverged
 * run is recorded as "undefined" instead of a misleading number. A non-finite reference is a
 * dataset bug and throws.
 */
export function prepare(
  metric: string,
  generated: Float32Array,
  reference: Float32Array,
  ctx: MetricContext,
  minRows = 1,
): { d: number; n: number; m: number; early?: MetricResult } {
  const d = sampleSize(ctx.shape, metric);
  const n = rowCount(generated, d, metric, 'generated', minRows);
  const m = rowCount(reference, d, metric, 'reference', minRows);
  const badRef = countNonFinite(reference);
  if (badRef > 0) {
    throw new PluginError(`Metric "${metric}": the reference set contains ${badRef} NaN/Infinity value(s).`, {
      hint: 'The dataset produced non-finite reference draws; check its options.',
    });
  }
  const bad = countNonFinite(generated);
  if (bad > 0) return { d, n, m, early: { value: Number.NaN, details: { nonFiniteGenerated: bad } } };
  return { d, n, m };
}

/**
 * Up to `max` rows of a [n, d] array chosen uniformly without replacement (seeded), so O(n²)
 * metrics stay affordable; returns the input unchanged when it already has ≤ max rows.
 */
export function subsampleRows(data: Float32Array, d: number, max: number, rng: Rng): Float32Array {
  const n = data.length / d;
  if (n <= max) return data;
  const perm = rng.permutation(n);
  const out = new Float32Array(max * d);
  for (let r = 0; r < max; r++) out.set(data.subarray(perm[r] * d, perm[r] * d + d), r * d);
  return out;
}

/** Seeded stream for a metric: a fixed `seed` option wins, else a fork of ctx.rng (forking never consumes ctx.rng, so repeated calls — e.g. the noise floor — see the same numbers). */
export function metricRng(ctx: MetricContext, label: string, seed: number | undefined): Rng {
  return seed === undefined ? ctx.rng.fork(label) : new Rng(seed).fork(label);
}
