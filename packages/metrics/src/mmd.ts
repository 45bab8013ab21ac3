/**
 * Maximum mean discrepancy with Gaussian (RBF) kernels, unbiased estimator (Gretton et al. 2012,
 * JMLR 13, eq. 3):
 *   MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n−1)) Σ_{i≠j} k(y_i, y_j) − 2/(mn) Σ_{i,j} k(x_i, y_j)
 * with k(x, y) = (1/|S|) Σ_{σ∈S} exp(−‖x − y‖² / (2σ²)), an average of RBF kernels over several
 * bandwidths so no single length scale has to be guessed right. MMD²_u is unbiased, so it can be
 * slightly negative when the two distributions agree. The cost is O((n + m)²·D): sets are
 * subsampled (seeded) to `maxPoints` rows each.
 */
import { definePlugin, type Metric, PluginError, z } from '@diffusionlab/core';
import { type DistanceBlockVisitor, forEachDistanceBlock } from './pairwise.js';
import { metricRng, prepare, subsampleRows } from './util.js';

/**
 * Median of the pairwise Euclidean distances between distinct rows of a [n, d] set: the "median
 * heuristic" bandwidth (Gretton et al. 2012, §8; Schölkopf & Smola 2002). Needs n ≥ 2.
 */
export function medianPairwiseDistance(x: Float32Array, d: number): number {
  const n = x.length / d;
  if (n < 2) throw new RangeError(`median heuristic needs at least 2 points, got ${n}.`);
  const dists = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  forEachDistanceBlock(x, x, d, true, (i0, rows, _jStart, out) => {
    for (let r = 0; r < rows; r++) for (let j = i0 + r + 1; j < n; j++) dists[k++] = Math.sqrt(out[r * n + j]);
  });
  dists.sort();
  const h = dists.length >> 1;
  return dists.length % 2 === 1 ? dists[h] : 0.5 * (dists[h - 1] + dists[h]);
}

/** Result of {@link mmdRbf}: the estimate for the averaged kernel and for each bandwidth alone. */
export interface MmdResult {
  /** Unbiased MMD² with the bandwidth-averaged kernel (= mean of `perBandwidth`). */
  mmd2: number;
  /** Unbiased MMD² with each single RBF bandwidth, in the given order. */
  perBandwidth: number[];
}

/**
 * Unbiased MMD² (Gretton et al. 2012, eq. 3) between row-major [m, d] and [n, d] sets, for each RBF
 * bandwidth σ in `bandwidths` and for their average kernel. Both sets need at least 2 rows.
 */
export function mmdRbf(x: Float32Array, y: Float32Array, d: number, bandwidths: readonly number[]): MmdResult {
  const m = x.length / d;
  const n = y.length / d;
  if (m < 2 || n < 2) throw new RangeError(`unbiased MMD needs at least 2 points per set, got ${m} and ${n}.`);
  if (bandwidths.length === 0 || bandwidths.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new RangeError(`RBF bandwidths must be finite and > 0, got [${bandwidths.join(', ')}].`);
  }
  const nb = bandwidths.length;
  const gamma = bandwidths.map((s) => 1 / (2 * s * s));
  const kxx = new Float64Array(nb);
  const kyy = new Float64Array(nb);
  const kxy = new Float64Array(nb);
  // Sums k(·,·) per bandwidth over a block; `upper` keeps only j > i (each unordered pair once, counted twice).
  const sumInto =
    (sum: Float64Array, cols: number, upper: boolean): DistanceBlockVisitor =>
    (i0, rows, jStart, out) => {
      for (let b = 0; b < nb; b++) {
        const g = gamma[b];
        let s = 0;
        for (let r = 0; r < rows; r++) {
          const from = upper ? i0 + r + 1 : jStart;
          for (let j = from; j < cols; j++) s += Math.exp(-g * out[r * cols + j]);
        }
        sum[b] += upper ? 2 * s : s;
      }
    };
  forEachDistanceBlock(x, x, d, true, sumInto(kxx, m, true));
  forEachDistanceBlock(y, y, d, true, sumInto(kyy, n, true));
  forEachDistanceBlock(x, y, d, false, sumInto(kxy, n, false));
  const perBandwidth: number[] = [];
  for (let b = 0; b < nb; b++) perBandwidth.push(kxx[b] / (m * (m - 1)) + kyy[b] / (n * (n - 1)) - (2 * kxy[b]) / (m * n));
  return { mmd2: perBandwidth.reduce((s, v) => s + v, 0) / nb, perBandwidth };
}

/** Options of the `mmd` metric. */
export const mmdOptions = z
  .object({
    bandwidths: z
      .union([z.literal('median'), z.array(z.number().positive('RBF bandwidths must be > 0')).min(1, 'give at least one bandwidth')])
      .default('median')
      .describe('RBF bandwidths σ: a fixed list, or "median" = median pairwise distance of the reference × medianScales.'),
    medianScales: z
      .array(z.number().positive('median scales must be > 0'))
      .min(1, 'give at least one scale')
      .default([0.5, 1, 2])
      .describe('Multipliers of the median-heuristic bandwidth (used when bandwidths is "median").'),
    maxPoints: z.number().int().min(2).default(2000).describe('Each set is subsampled (seeded, without replacement) to at most this many points; cost is O(maxPoints²·D).'),
    seed: z.number().int().min(0).optional().describe('Fixes the subsample independently of the run seed (default: derived from the run seed).'),
  })
  .strict();

/**
 * The `mmd` metric: value = unbiased MMD² with the bandwidth-averaged RBF kernel; details: the
 * bandwidths used, MMD² per bandwidth, and `mmd` = √max(0, MMD²). The median heuristic is taken on
 * the reference set alone, so a run and its noise floor share the same kernel.
 */
export const mmdMetric = definePlugin({
  kind: 'metric',
  name: 'mmd',
  description: 'Unbiased MMD² (Gretton et al. 2012) with an average of RBF kernels (median-heuristic or fixed bandwidths).',
  options: mmdOptions,
  create(options): Metric {
    return {
      name: 'mmd',
      higherIsBetter: false,
      compute(generated, reference, ctx) {
        const { d, early } = prepare('mmd', generated, reference, ctx, 2);
        if (early) return early;
        const rng = metricRng(ctx, 'mmd', options.seed);
        const x = subsampleRows(generated, d, options.maxPoints, rng.fork('generated'));
        const y = subsampleRows(reference, d, options.maxPoints, rng.fork('reference'));
        let bandwidths: number[];
        if (options.bandwidths === 'median') {
          const med = medianPairwiseDistance(subsampleRows(y, d, 1000, rng.fork('median')), d);
          if (!(med > 0)) {
            throw new PluginError('Metric "mmd": the median pairwise distance of the reference set is 0 (most reference points coincide).', {
              hint: 'Give fixed RBF bandwidths, e.g. metrics: [{ use: mmd, bandwidths: [0.5, 1, 2] }].',
            });
          }
          bandwidths = options.medianScales.map((s) => s * med);
        } else {
          bandwidths = [...options.bandwidths];
        }
        const r = mmdRbf(x, y, d, bandwidths);
        return {
          value: r.mmd2,
          details: { mmd: Math.sqrt(Math.max(0, r.mmd2)), bandwidths, perBandwidth: r.perBandwidth, generatedPoints: x.length / d, referencePoints: y.length / d },
        };
      },
    };
  },
});
