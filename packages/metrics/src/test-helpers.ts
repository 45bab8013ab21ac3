/** Test helpers (not exported from the package): seeded Gaussian draws and a metric context. */
import { type DatasetInfo, type MetricContext, Rng } from '@diffusionlab/core';

/** n draws from N(mu, std²·I) in d dims, row-major [n, d]. */
export function gaussian(rng: Rng, n: number, mu: readonly number[], std = 1): Float32Array {
  const d = mu.length;
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) x[i * d + c] = mu[c] + std * rng.normal();
  return x;
}

/** A metric context for a [d]-shaped sample (or an explicit shape). */
export function ctxFor(shape: readonly number[], info: DatasetInfo = {}, seed = 7): MetricContext {
  return { shape, info, rng: new Rng(seed) };
}

/** Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** Resolves a metric result to its value. */
export function valueOfResult(r: number | { value: number }): number {
  return typeof r === 'number' ? r : r.value;
}
