/**
 * Sliced Wasserstein distance (Rabin et al. 2011; Bonneel et al. 2015, eq. 2):
 *   SW_p(μ, ν)^p = E_{θ ~ U(S^{D−1})} [ W_p(θ#μ, θ#ν)^p ],
 * estimated with K fixed random unit directions θ_k and the exact 1-D W_p of each projection.
 * It is a true metric on distributions in any dimension and costs O(K·(n + m)·(D + log n)).
 */
import { definePlugin, type Metric, type Rng, z } from '@diffusionlab/core';
import { prepare, metricRng } from './util.js';
import { wasserstein1dSorted, wassersteinP1dSorted } from './w1.js';

/**
 * K directions drawn uniformly on the unit sphere S^{D−1} (normalised standard normals, Muller
 * 1959), row-major [K, D]. Fixed by `rng`, so a metric and its noise floor use the same slices.
 */
export function randomUnitDirections(d: number, k: number, rng: Rng): Float64Array {
  const out = new Float64Array(k * d);
  for (let p = 0; p < k; p++) {
    let norm = 0;
    while (norm < 1e-12) {
      norm = 0;
      for (let c = 0; c < d; c++) {
        const g = rng.normal();
        out[p * d + c] = g;
        norm += g * g;
      }
    }
    norm = Math.sqrt(norm);
    for (let c = 0; c < d; c++) out[p * d + c] /= norm;
  }
  return out;
}

/** Sorted projections ⟨x_i, θ⟩ of the rows of a [rows, d] array onto one direction. */
function sortedProjection(data: Float32Array, d: number, dirs: Float64Array, p: number, out: Float64Array): Float64Array {
  const rows = data.length / d;
  const off = p * d;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const base = r * d;
    for (let c = 0; c < d; c++) s += data[base + c] * dirs[off + c];
    out[r] = s;
  }
  out.sort();
  return out;
}

/** Result of {@link slicedWasserstein}: SW₁, SW₂ and the W₁ of each projection. */
export interface SlicedWassersteinResult {
  /** Mean over directions of W₁ of the projections. */
  sw1: number;
  /** √(mean over directions of W₂² of the projections). */
  sw2: number;
  /** W₁ of each projection, in direction order. */
  perProjectionW1: Float64Array;
}

/** SW₁ and SW₂ between row-major [n, d] and [m, d] sets over the given unit directions [K, d] (see {@link randomUnitDirections}). */
export function slicedWasserstein(generated: Float32Array, reference: Float32Array, d: number, directions: Float64Array): SlicedWassersteinResult {
  const k = directions.length / d;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`directions must be a non-empty [K, ${d}] array, got ${directions.length} values.`);
  const pa = new Float64Array(generated.length / d);
  const pb = new Float64Array(reference.length / d);
  const perProjectionW1 = new Float64Array(k);
  let s1 = 0;
  let s2 = 0;
  for (let p = 0; p < k; p++) {
    sortedProjection(generated, d, directions, p, pa);
    sortedProjection(reference, d, directions, p, pb);
    const w1 = wasserstein1dSorted(pa, pb);
    const w2 = wassersteinP1dSorted(pa, pb, 2);
    perProjectionW1[p] = w1;
    s1 += w1;
    s2 += w2 * w2;
  }
  return { sw1: s1 / k, sw2: Math.sqrt(s2 / k), perProjectionW1 };
}

/** Options of the `sliced-wasserstein` metric. */
export const slicedWassersteinOptions = z
  .object({
    projections: z.number().int().min(1).max(100_000).default(128).describe('Number of random unit directions K; the Monte-Carlo error of the slice average shrinks like 1/√K.'),
    seed: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Fixes the directions independently of the run seed; by default they derive from the run seed (same for the metric and its noise floor).'),
  })
  .strict();

/**
 * The `sliced-wasserstein` metric: value SW₁, `details.sw2` = SW₂, `details.projections` = K.
 * Directions are drawn once per data dimension and seed and reused, so repeated calls (the metric
 * and its noise floor) compare like with like.
 */
export const slicedWassersteinMetric = definePlugin({
  kind: 'metric',
  name: 'sliced-wasserstein',
  description: 'Sliced Wasserstein SW1 (value) and SW2 (details.sw2) over fixed random unit directions, exact 1-D W per slice.',
  options: slicedWassersteinOptions,
  create(options): Metric {
    const { projections, seed } = options;
    const cache = new Map<string, Float64Array>();
    return {
      name: 'sliced-wasserstein',
      higherIsBetter: false,
      compute(generated, reference, ctx) {
        const { d, early } = prepare('sliced-wasserstein', generated, reference, ctx);
        if (early) return early;
        const rng = metricRng(ctx, 'sliced-wasserstein', seed);
        const key = `${d}:${rng.seed}`;
        let dirs = cache.get(key);
        if (!dirs) {
          dirs = randomUnitDirections(d, projections, rng);
          cache.set(key, dirs);
        }
        const r = slicedWasserstein(generated, reference, d, dirs);
        return { value: r.sw1, details: { sw2: r.sw2, projections } };
      },
    };
  },
});
