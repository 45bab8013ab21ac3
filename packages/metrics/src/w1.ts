/**
 * Exact Wasserstein distances between 1-D empirical distributions, and the `w1` metric (mean of
 * per-dimension W1). 1-D optimal transport has a closed form, so no approximation is involved:
 *   W₁(μ, ν) = ∫ |F(x) − G(x)| dx                     (Villani 2009, Remark 2.19; Vallender 1973)
 *   W_p(μ, ν)^p = ∫₀¹ |F⁻¹(u) − G⁻¹(u)|^p du          (Villani 2009, Remark 2.19; Peyré & Cuturi 2019, Remark 2.30)
 * where F, G are the empirical CDFs. Both integrals are piecewise constant, so a merge walk over
 * the sorted samples evaluates them exactly in O((n + m) log(n + m)).
 */
import { definePlugin, z, type Metric } from '@diffusionlab/core';
import { prepare } from './util.js';

/** A sorted float64 copy, so callers' arrays are never reordered and sums do not lose float32 precision. */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values as ArrayLike<number>);
  out.sort();
  return out;
}

function checkSizes(n: number, m: number): void {
  if (n < 1 || m < 1) throw new RangeError(`Wasserstein distance needs non-empty samples, got sizes ${n} and ${m}.`);
}

/**
 * W₁ between two *sorted* samples as ∫|F − G| over the merged support. Between consecutive support
 * points F = i/n and G = j/m are constant, so the integral is Σ |i/n − j/m|·(x_{k+1} − x_k); the sum
 * is kept in integers |i·m − j·n| to avoid rounding the CDF steps. Returns NaN if either contains NaN.
 */
export function wasserstein1dSorted(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const m = b.length;
  checkSizes(n, m);
  let i = 0;
  let j = 0;
  let prev = Math.min(a[0], b[0]);
  let area = 0;
  while (i < n || j < m) {
    const x = j >= m || (i < n && a[i] <= b[j]) ? a[i] : b[j];
    if (Number.isNaN(x)) return Number.NaN;
    area += Math.abs(i * m - j * n) * (x - prev);
    while (i < n && a[i] === x) i++;
    while (j < m && b[j] === x) j++;
    prev = x;
  }
  return area / (n * m);
}

/** Exact W₁ between two 1-D samples of any sizes (they are copied and sorted); e.g. `wasserstein1d([0, 1], [2, 3]) === 2`. */
export function wasserstein1d(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return wasserstein1dSorted(sortedCopy(a), sortedCopy(b));
}

/**
 * W_p between two *sorted* samples via the quantile form (∫₀¹|F⁻¹ − G⁻¹|^p du)^{1/p}: the quantile
 * functions step at u = k/n and u = l/m, so the walk visits the merged breakpoints, measured in
 * units of 1/(n·m) to stay exact. For p = 1 it agrees with {@link wasserstein1dSorted}.
 */
export function wassersteinP1dSorted(a: ArrayLike<number>, b: ArrayLike<number>, p = 2): number {
  const n = a.length;
  const m = b.length;
  checkSizes(n, m);
  if (!(p >= 1) || !Number.isFinite(p)) throw new RangeError(`Wasserstein order p must be a finite number ≥ 1, got ${p}.`);
  let i = 0;
  let j = 0;
  let u = 0; // current quantile level, in units of 1/(n·m)
  let sum = 0;
  while (i < n && j < m) {
    const ea = (i + 1) * m;
    const eb = (j + 1) * n;
    const end = Math.min(ea, eb);
    const diff = Math.abs(a[i] - b[j]);
    sum += (p === 1 ? diff : p === 2 ? diff * diff : diff ** p) * (end - u);
    u = end;
    if (ea === end) i++;
    if (eb === end) j++;
  }
  const mean = sum / (n * m);
  return p === 1 ? mean : p === 2 ? Math.sqrt(mean) : mean ** (1 / p);
}

/** Exact W_p (p ≥ 1) between two 1-D samples of any sizes; W₂ is what sliced-W2 averages. */
export function wassersteinP1d(a: ArrayLike<number>, b: ArrayLike<number>, p = 2): number {
  return wassersteinP1dSorted(sortedCopy(a), sortedCopy(b), p);
}

/** Column `k` of a row-major [rows, d] array as a sorted float64 array (one marginal). */
export function sortedColumn(data: Float32Array, d: number, k: number): Float64Array {
  const rows = data.length / d;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = data[r * d + k];
  out.sort();
  return out;
}

/** W₁ of each marginal (dimension) of two row-major [n, d] / [m, d] sets; what the `w1` metric averages. */
export function marginalW1(generated: Float32Array, reference: Float32Array, d: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < d; k++) out.push(wasserstein1dSorted(sortedColumn(generated, d, k), sortedColumn(reference, d, k)));
  return out;
}

/** Options of the `w1` metric (none: it is exact and parameter-free). */
export const w1Options = z.object({}).strict();

/**
 * The `w1` metric: exact 1-D Wasserstein-1 for D = 1 (the reference example's data); for D > 1 the
 * mean of the per-dimension (marginal) W₁, with `details.perDim`. Marginals ignore correlations
 * between dimensions; use `sliced-wasserstein` for a joint measure.
 */
export const w1Metric = definePlugin({
  kind: 'metric',
  name: 'w1',
  description: 'Exact 1-D Wasserstein-1 (mean over dimensions of the marginal W1 for D > 1).',
  options: w1Options,
  create(): Metric {
    return {
      name: 'w1',
      higherIsBetter: false,
      compute(generated, reference, ctx) {
        const { d, early } = prepare('w1', generated, reference, ctx);
        if (early) return early;
        const perDim = marginalW1(generated, reference, d);
        const value = perDim.reduce((s, v) => s + v, 0) / d;
        return { value, details: { perDim } };
      },
    };
  },
});
