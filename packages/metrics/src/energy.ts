/**
 * Energy distance (Székely & Rizzo 2004, 2013, eq. 1.1):
 *   E(X, Y) = 2·E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖ ≥ 0, with equality iff X and Y have the same law.
 * The cross term is the mean over all n·m pairs; the within-set terms are U-statistics over
 * distinct pairs (i ≠ j), which are unbiased for E‖X − X'‖ and E‖Y − Y'‖. Cost O((n + m)²·D):
 * sets are subsampled (seeded) to `maxPoints` rows each.
 */
import { definePlugin, type Metric, z } from '@diffusionlab/core';
import { forEachDistanceBlock } from './pairwise.js';
import { metricRng, prepare, subsampleRows } from './util.js';

/** Result of {@link energyDistance}: the distance and its three expectation terms. */
export interface EnergyResult {
  /** 2·exy − exx − eyy. */
  energy: number;
  /** Mean ‖x_i − y_j‖ over all pairs. */
  exy: number;
  /** Mean ‖x_i − x_j‖ over distinct pairs (unbiased). */
  exx: number;
  /** Mean ‖y_i − y_j‖ over distinct pairs (unbiased). */
  eyy: number;
}

/** Energy distance between row-major [m, d] and [n, d] sets (each ≥ 2 rows), with unbiased within-set terms. */
export function energyDistance(x: Float32Array, y: Float32Array, d: number): EnergyResult {
  const m = x.length / d;
  const n = y.length / d;
  if (m < 2 || n < 2) throw new RangeError(`energy distance needs at least 2 points per set, got ${m} and ${n}.`);
  // Sum of ‖·‖ over a set of pairs; `upper` keeps only j > i (each unordered pair once).
  const sumDist = (a: Float32Array, b: Float32Array, upper: boolean): number => {
    const cols = b.length / d;
    let total = 0;
    forEachDistanceBlock(a, b, d, upper, (i0, rows, jStart, out) => {
      for (let r = 0; r < rows; r++) for (let j = upper ? i0 + r + 1 : jStart; j < cols; j++) total += Math.sqrt(out[r * cols + j]);
    });
    return total;
  };
  const sxy = sumDist(x, y, false);
  const sxx = sumDist(x, x, true);
  const syy = sumDist(y, y, true);
  const exy = sxy / (m * n);
  const exx = (2 * sxx) / (m * (m - 1));
  const eyy = (2 * syy) / (n * (n - 1));
  return { energy: 2 * exy - exx - eyy, exy, exx, eyy };
}

/** Options of the `energy` metric. */
export const energyOptions = z
  .object({
    maxPoints: z.number().int().min(2).default(2000).describe('Each set is subsampled (seeded, without replacement) to at most this many points; cost is O(maxPoints²·D).'),
    seed: z.number().int().min(0).optional().describe('Fixes the subsample independently of the run seed (default: derived from the run seed).'),
  })
  .strict();

/** The `energy` metric: value = energy distance; details: the three expectation terms and the subsample sizes. */
export const energyMetric = definePlugin({
  kind: 'metric',
  name: 'energy',
  description: 'Energy distance 2E|X−Y| − E|X−X′| − E|Y−Y′| (Székely & Rizzo), unbiased within-set terms.',
  options: energyOptions,
  create(options): Metric {
    return {
      name: 'energy',
      higherIsBetter: false,
      compute(generated, reference, ctx) {
        const { d, early } = prepare('energy', generated, reference, ctx, 2);
        if (early) return early;
        const rng = metricRng(ctx, 'energy', options.seed);
        const x = subsampleRows(generated, d, options.maxPoints, rng.fork('generated'));
        const y = subsampleRows(reference, d, options.maxPoints, rng.fork('reference'));
        const r = energyDistance(x, y, d);
        return {
          value: r.energy,
          details: { exy: r.exy, exx: r.exx, eyy: r.eyy, generatedPoints: x.length / d, referencePoints: y.length / d },
        };
      },
    };
  },
});
