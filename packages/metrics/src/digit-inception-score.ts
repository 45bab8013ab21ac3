/**
 * `digit-inception-score`: the Inception Score of Salimans et al. 2016 (§4, "Inception score"),
 * computed with the project's cached digit classifier ({@link loadDigitClassifierFor}, the one
 * `digit-classifier` uses) in place of Inception, over the ten digit classes:
 *
 *   IS = exp( E_x KL( p(y|x) ‖ p(y) ) ),   p(y) = E_x p(y|x),
 *
 * estimated with the sample mean over the generated set (one split: the runner's 100–1000 samples
 * are too few for the paper's ten splits of 5,000). log IS = H(p(y)) − E_x H(p(y|x)): the entropy of
 * the class marginal (diversity, ≤ log 10) minus the mean per-sample entropy (confidence), so IS runs
 * from 1 (every sample read the same way, or every sample maximally unsure) to 10 (every sample one
 * digit with certainty, all ten equally often).
 *
 * The classifier has an eleventh output, "not a digit". Its probability is spread evenly over the ten
 * digits: p(y|x) = p_c(y|x) + p_c(junk|x)/10. A sample read as junk thus counts as "no idea which
 * digit" — the per-sample entropy is maximal, so it pulls IS toward 1, as an unrecognisable image
 * should. Renormalising over the digits instead (p_c(y|x) / (1 − p_c(junk|x))) would score a junk
 * image by the leftovers of its digit probabilities, which are arbitrary and often peaked; see the
 * README for the measured difference on noise. The share of samples read as junk is reported beside
 * the score.
 *
 * Higher is better. Its noise floor (a held-out real draw scored the same way) is what real digits
 * get under this classifier, below 10 as far as the classifier is unsure or the draw unbalanced.
 */
import { definePlugin, type Metric } from '@diffusionlab/core';
import { digitClassifierModelOptions, digitImageResolution, loadDigitClassifierFor, toGrey } from './digit-classifier.js';
import { predictProba } from './mlp-classifier.js';
import { prepare } from './util.js';

const DIGITS = 10;
/** The classifier's outputs per image: the ten digits, then "not a digit" (see digit-classifier.ts). */
const OUTPUTS = DIGITS + 1;

/** An Inception Score and the two entropies it is the difference of (in nats). */
export interface InceptionScore {
  /** exp(E_x KL(p(y|x) ‖ p(y))). */
  score: number;
  /** H(p(y)): entropy of the mean prediction (diversity; log k for k equally used classes). */
  marginalEntropy: number;
  /** E_x H(p(y|x)): mean entropy of one sample's prediction (0 when every prediction is certain). */
  conditionalEntropy: number;
}

/**
 * The Inception Score (Salimans et al. 2016) of class probabilities [n, classes], each row summing to
 * 1, in float64: IS = exp(mean_i Σ_y p_i(y) (log p_i(y) − log p̄(y))) with p̄ the mean row and 0·log 0 = 0.
 * Why a separate function: the score is a property of the predictions alone, testable in closed form.
 */
export function inceptionScore(probs: ArrayLike<number>, classes: number): InceptionScore {
  const n = probs.length / classes;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`inceptionScore: ${probs.length} values are not a positive whole number of ${classes}-class rows.`);
  const marginal = new Float64Array(classes);
  for (let i = 0; i < n; i++) for (let c = 0; c < classes; c++) marginal[c] += probs[i * classes + c];
  for (let c = 0; c < classes; c++) marginal[c] /= n;
  let kl = 0;
  let conditional = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) {
      const p = probs[i * classes + c];
      if (p <= 0) continue;
      kl += p * (Math.log(p) - Math.log(marginal[c]));
      conditional -= p * Math.log(p);
    }
  }
  let marginalEntropy = 0;
  for (const q of marginal) if (q > 0) marginalEntropy -= q * Math.log(q);
  // KL ≥ 0 exactly; a mean of −1e-17 is round-off (identical rows).
  return { score: Math.exp(Math.max(0, kl / n)), marginalEntropy, conditionalEntropy: conditional / n };
}

/**
 * The classifier's probabilities [n, 11] as digit probabilities [n, 10], "not a digit" spread evenly
 * over the ten (why: see the file comment), in float64; also the share of rows whose most probable
 * output is "not a digit" (the `digit-classifier` metric's `digitJunk`).
 */
export function digitProbabilities(probs: ArrayLike<number>): { digits: Float64Array; junkShare: number } {
  const n = probs.length / OUTPUTS;
  if (!Number.isInteger(n)) throw new RangeError(`digitProbabilities: ${probs.length} values are not a whole number of ${OUTPUTS}-output rows.`);
  const digits = new Float64Array(n * DIGITS);
  let junk = 0;
  for (let i = 0; i < n; i++) {
    const o = i * OUTPUTS;
    const spread = probs[o + DIGITS] / DIGITS;
    let top = 0;
    for (let c = 0; c < DIGITS; c++) {
      digits[i * DIGITS + c] = probs[o + c] + spread;
      top = Math.max(top, probs[o + c]);
    }
    if (probs[o + DIGITS] > top) junk++;
  }
  return { digits, junkShare: n > 0 ? junk / n : 0 };
}

/** Options of `digit-inception-score`: which cached classifier (the same options as `digit-classifier`, without its threshold). */
export const digitInceptionScoreOptions = digitClassifierModelOptions;

/**
 * The `digit-inception-score` metric: value = the Inception Score over the ten digits (↑, 1 … 10).
 * details: `digitIsJunk` (share of samples read as "not a digit"), `digitIsMarginalEntropy` and
 * `digitIsConditionalEntropy` (nats; log IS is their difference), `digitIsClassifierAccuracy` (the
 * classifier's held-out accuracy, to say how far to trust it). The reference set is only validated:
 * the score reads the generated set alone.
 */
export const digitInceptionScoreMetric = definePlugin({
  kind: 'metric',
  name: 'digit-inception-score',
  description: 'Inception Score (Salimans et al. 2016) of generated digits under the cached MNIST classifier: exp E KL(p(y|x) ‖ p(y)) over ten digits (↑, 1 … 10).',
  options: digitInceptionScoreOptions,
  create(o, context): Metric {
    const name = 'digit-inception-score';
    return {
      name,
      higherIsBetter: true,
      async compute(generated, reference, ctx) {
        const resolution = digitImageResolution(ctx, name);
        const { early } = prepare(name, generated, reference, ctx);
        if (early) return early;
        const c = await loadDigitClassifierFor(o, resolution, context.print);
        const { digits, junkShare } = digitProbabilities(predictProba(c.net, toGrey(generated)));
        const s = inceptionScore(digits, DIGITS);
        return {
          value: s.score,
          details: {
            digitIsJunk: junkShare,
            digitIsMarginalEntropy: s.marginalEntropy,
            digitIsConditionalEntropy: s.conditionalEntropy,
            digitIsClassifierAccuracy: c.heldOutAccuracy,
          },
        };
      },
    };
  },
});
