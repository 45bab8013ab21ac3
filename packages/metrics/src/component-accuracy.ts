/**
 * `component-accuracy`: for mixtures and 2-D toy sets, the share of generated samples that land on
 * the component or arm they were requested from. Each sample is given the class of its nearest
 * labelled reference points — a k-nearest-neighbour vote (Fix & Hodges 1951; Cover & Hart 1967) in
 * the Euclidean distance the `modes` metric uses for its nearest-centre assignment:
 *
 *   ĉ(x) = argmax_c #{ j ∈ N_k(x) : y_j = c },   value = (1/n) Σ_i 1[ĉ(x_i) = requested_i],
 *
 * with N_k(x) the k reference rows nearest to x and ties going to the class of the nearest tied
 * neighbour. Why neighbours rather than component means: a toy arm has no representative centre (the
 * centroid of a moon lies off the moon, inside the other moon's bend; spirals interleave), while the
 * labelled reference points trace every arm's actual shape, and for a Gaussian mixture they need no
 * assumption about how labels map to `info.mixture`'s components. The vote converges to the Bayes
 * classifier as the reference grows (Stone 1977), so where components overlap the score of real data
 * (the noise floor: a perfect draw with its true classes) is below 1 — the ceiling a generator can
 * reach. For k = 1 its limit is 1 − E[Σ_c η_c(x)(1 − η_c(x))] (Cover & Hart 1967, eq. 4, η_c the class
 * posterior), which the tests check.
 */
import { definePlugin, type Metric, PluginError, z } from '@diffusionlab/core';
import { checkLabelNames, requireLabels, rowsByClass } from './class-labels.js';
import { forEachDistanceBlock } from './pairwise.js';
import { metricRng, prepare } from './util.js';

/**
 * The k-NN vote of every row of `x` ([n, d]) among the labelled rows of `ref` ([m, d], classes in
 * `refLabels`): the majority class of its k nearest reference rows, ties to the nearest tied one.
 */
export function nearestClassVote(x: Float32Array, ref: Float32Array, refLabels: Int32Array, d: number, k: number, classes: number): Int32Array {
  const n = x.length / d;
  const m = ref.length / d;
  if (m < 1) throw new RangeError('the k-NN vote needs at least one reference row');
  const kk = Math.min(k, m);
  const out = new Int32Array(n);
  const bestD = new Float64Array(kk);
  const bestJ = new Int32Array(kk);
  const votes = new Int32Array(classes);
  forEachDistanceBlock(x, ref, d, false, (i0, rows, _jStart, dist) => {
    for (let r = 0; r < rows; r++) {
      // Insertion into a sorted list of the kk smallest distances (k is small).
      let filled = 0;
      const o = r * m;
      for (let j = 0; j < m; j++) {
        const v = dist[o + j];
        if (filled === kk && v >= bestD[kk - 1]) continue;
        let p = filled < kk ? filled++ : kk - 1;
        while (p > 0 && bestD[p - 1] > v) {
          bestD[p] = bestD[p - 1];
          bestJ[p] = bestJ[p - 1];
          p--;
        }
        bestD[p] = v;
        bestJ[p] = j;
      }
      votes.fill(0);
      let top = 0;
      for (let q = 0; q < kk; q++) top = Math.max(top, ++votes[refLabels[bestJ[q]]]);
      let winner = refLabels[bestJ[0]];
      for (let q = 0; q < kk; q++) {
        if (votes[refLabels[bestJ[q]]] === top) {
          winner = refLabels[bestJ[q]];
          break;
        }
      }
      out[i0 + r] = winner;
    }
  });
  return out;
}

/** Options of the `component-accuracy` metric. */
export const componentAccuracyOptions = z
  .object({
    k: z
      .number()
      .int()
      .min(1)
      .max(101)
      .default(5)
      .describe('Reference neighbours that vote on each sample’s class; 1 is the plain nearest neighbour, more smooths the vote where components overlap.'),
    maxReference: z
      .number()
      .int()
      .min(1)
      .default(5000)
      .describe('The labelled reference is subsampled (seeded, without replacement) to at most this many points; cost is O(n·maxReference·D).'),
    seed: z.number().int().min(0).optional().describe('Fixes the reference subsample independently of the run seed (default: derived from the run seed).'),
  })
  .strict();

/**
 * The `component-accuracy` metric: value = share of samples whose k-NN class among the labelled
 * reference is the requested class (↑). details: `componentAccuracyPerClass` (the share per requested
 * class, in class order; NaN for a class never requested) and `componentAccuracyK`.
 */
export const componentAccuracyMetric = definePlugin({
  kind: 'metric',
  name: 'component-accuracy',
  description: 'Conditional runs on mixtures and toy sets: share of samples whose nearest labelled reference points (k-NN vote) belong to the requested component or arm.',
  options: componentAccuracyOptions,
  create(options): Metric {
    const name = 'component-accuracy';
    return {
      name,
      higherIsBetter: true,
      check(ctx) {
        checkLabelNames(name, ctx.labelNames);
      },
      compute(generated, reference, ctx) {
        const { d, n, m, early } = prepare(name, generated, reference, ctx);
        const labels = requireLabels(name, ctx, n, m);
        if (early) return early;
        const classes = labels.names.length;
        let ref = reference;
        let refLabels = labels.reference;
        if (m > options.maxReference) {
          const perm = metricRng(ctx, name, options.seed).permutation(m);
          ref = new Float32Array(options.maxReference * d);
          refLabels = new Int32Array(options.maxReference);
          for (let r = 0; r < options.maxReference; r++) {
            ref.set(reference.subarray(perm[r] * d, perm[r] * d + d), r * d);
            refLabels[r] = labels.reference[perm[r]];
          }
        }
        const requested = new Set(labels.samples);
        const present = new Set(refLabels);
        const missing = [...requested].filter((c) => !present.has(c));
        if (missing.length > 0) {
          throw new PluginError(
            `Metric "${name}": the reference has no points of requested class ${missing.map((c) => `${c} (${JSON.stringify(labels.names[c])})`).join(', ')}, so samples cannot be matched to it.`,
            { hint: 'Draw a larger reference (evaluation.samples) or raise the metric’s maxReference.' },
          );
        }
        const vote = nearestClassVote(generated, ref, refLabels, d, options.k, classes);
        let hit = 0;
        for (let i = 0; i < n; i++) if (vote[i] === labels.samples[i]) hit++;
        const perClass = rowsByClass(labels.samples, classes).map((rows) =>
          rows.length === 0 ? Number.NaN : rows.filter((i) => vote[i] === labels.samples[i]).length / rows.length,
        );
        return { value: hit / n, details: { componentAccuracyPerClass: perClass, componentAccuracyK: Math.min(options.k, ref.length / d) } };
      },
    };
  },
});
