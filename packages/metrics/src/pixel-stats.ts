/**
 * First- and second-moment check for images (or any data): per-pixel mean and standard deviation
 * across samples, compared between generated and reference sets,
 *   meanError = (1/P) Σ_p |μ̂_gen(p) − μ̂_ref(p)|,   stdError = (1/P) Σ_p |ŝ_gen(p) − ŝ_ref(p)|,
 * with P = prod(shape) pixels and ŝ the population (1/n) standard deviation. Cheap and
 * interpretable: it catches brightness/contrast drift and blurry (low-variance) samples, not structure.
 */
import { definePlugin, type Metric, z } from '@diffusionlab/core';
import { prepare } from './util.js';

/** Per-pixel mean and (1/n) std across the rows of a [n, P] array. */
export function pixelMoments(x: Float32Array, p: number): { mean: Float64Array; std: Float64Array } {
  const n = x.length / p;
  const mean = new Float64Array(p);
  const sq = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let k = 0; k < p; k++) mean[k] += x[i * p + k];
  for (let k = 0; k < p; k++) mean[k] /= n;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < p; k++) {
      const t = x[i * p + k] - mean[k];
      sq[k] += t * t;
    }
  }
  const std = sq.map((s) => Math.sqrt(s / n));
  return { mean, std };
}

/** Result of {@link pixelStats}. */
export interface PixelStatsResult {
  /** Mean over pixels of |per-pixel mean (gen) − per-pixel mean (ref)|. */
  meanError: number;
  /** Mean over pixels of |per-pixel std (gen) − per-pixel std (ref)|. */
  stdError: number;
  /** Mean and std over all values of each set (global brightness and contrast). */
  generatedMean: number;
  referenceMean: number;
  generatedStd: number;
  referenceStd: number;
}

function globalMoments(x: Float32Array): [number, number] {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  const mu = s / x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - mu) ** 2;
  return [mu, Math.sqrt(v / x.length)];
}

/** Per-pixel moment errors between row-major [n, P] generated and [m, P] reference sets. */
export function pixelStats(generated: Float32Array, reference: Float32Array, p: number): PixelStatsResult {
  const g = pixelMoments(generated, p);
  const r = pixelMoments(reference, p);
  let me = 0;
  let se = 0;
  for (let k = 0; k < p; k++) {
    me += Math.abs(g.mean[k] - r.mean[k]);
    se += Math.abs(g.std[k] - r.std[k]);
  }
  const [generatedMean, generatedStd] = globalMoments(generated);
  const [referenceMean, referenceStd] = globalMoments(reference);
  return { meanError: me / p, stdError: se / p, generatedMean, referenceMean, generatedStd, referenceStd };
}

/** Options of the `pixel-stats` metric (none). */
export const pixelStatsOptions = z.object({}).strict();

/** The `pixel-stats` metric: value = mean over pixels of |μ_gen − μ_ref|; details add the std error and global moments. */
export const pixelStatsMetric = definePlugin({
  kind: 'metric',
  name: 'pixel-stats',
  description: 'Per-pixel mean and std of generated vs reference samples (value = mean |Δmean|; details.stdError = mean |Δstd|).',
  options: pixelStatsOptions,
  create(): Metric {
    return {
      name: 'pixel-stats',
      higherIsBetter: false,
      compute(generated, reference, ctx) {
        const { d, early } = prepare('pixel-stats', generated, reference, ctx);
        if (early) return early;
        const r = pixelStats(generated, reference, d);
        return { value: r.meanError, details: { ...r } };
      },
    };
  },
});
