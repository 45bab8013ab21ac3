/**
 * `digit-accuracy`: did a class-conditional digit model draw the digit it was asked for? The project's
 * cached digit classifier ({@link loadDigitClassifier}, the one `digit-classifier` uses) reads each
 * generated image, and the metric reports the share it assigns to the requested class — the
 * "classification accuracy of conditional samples" used to judge class-conditional generators
 * (Odena et al. 2017, AC-GAN §4.1, with a pretrained classifier; Ho & Salimans 2022 report the same
 * trade-off through Inception score). Per requested class it also reports the existing confident
 * share (largest digit probability ≥ `threshold`, not "not a digit").
 *
 *   value = (1/n) Σ_i 1[argmax_c p(c | x_i) = requested_i],  c over the ten digits and "not a digit".
 *
 * Its noise floor (real held-out digits scored with their true classes) is the classifier's own
 * accuracy, the best a perfect generator can reach.
 */
import { definePlugin, type Metric, PluginError } from '@diffusionlab/core';
import { checkLabelNames, requireLabels } from './class-labels.js';
import { digitClassifierOptions, digitImageResolution, loadDigitClassifierFor, toGrey } from './digit-classifier.js';
import { predictProba } from './mlp-classifier.js';
import { prepare } from './util.js';

const DIGITS = 10;
/** The classifier's outputs per image: the ten digits, then "not a digit" (see digit-classifier.ts). */
const OUTPUTS = DIGITS + 1;

/** What {@link scoreRequestedDigits} measures, overall and per requested digit (NaN for a digit never requested). */
export interface RequestedDigitScores {
  /** Share of samples classified as their requested digit. */
  accuracy: number;
  /** Share of samples classified as their requested digit with probability ≥ threshold. */
  confidentCorrect: number;
  /** Share of samples confidently some digit (largest digit probability ≥ threshold and above "not a digit"). */
  confidentShare: number;
  accuracyPerClass: number[];
  confidentPerClass: number[];
  /** Samples requested per digit. */
  requestedPerClass: number[];
}

/**
 * Scores class probabilities [n, 11] (ten digits, then "not a digit") against the requested digit of
 * each row: a row is correct when its most probable output is the requested digit, confident when its
 * largest digit probability is ≥ threshold and exceeds "not a digit" (the `digit-classifier` rule).
 */
export function scoreRequestedDigits(probs: Float32Array, requested: Int32Array, threshold: number): RequestedDigitScores {
  const n = requested.length;
  if (probs.length !== n * OUTPUTS) throw new RangeError(`expected ${n}×${OUTPUTS} probabilities, got ${probs.length}`);
  const asked = new Array<number>(DIGITS).fill(0);
  const right = new Array<number>(DIGITS).fill(0);
  const sure = new Array<number>(DIGITS).fill(0);
  let correct = 0;
  let confidentCorrect = 0;
  let confident = 0;
  for (let i = 0; i < n; i++) {
    const o = i * OUTPUTS;
    let best = 0;
    for (let c = 1; c < DIGITS; c++) if (probs[o + c] > probs[o + best]) best = c;
    const pmax = probs[o + best];
    const digit = probs[o + DIGITS] <= pmax;
    const isConfident = digit && pmax >= threshold;
    const isCorrect = digit && best === requested[i];
    const r = requested[i];
    asked[r]++;
    if (isCorrect) {
      correct++;
      right[r]++;
      if (isConfident) confidentCorrect++;
    }
    if (isConfident) {
      confident++;
      sure[r]++;
    }
  }
  const share = (k: number[]) => k.map((v, c) => (asked[c] > 0 ? v / asked[c] : Number.NaN));
  return {
    accuracy: correct / n,
    confidentCorrect: confidentCorrect / n,
    confidentShare: confident / n,
    accuracyPerClass: share(right),
    confidentPerClass: share(sure),
    requestedPerClass: asked,
  };
}

/**
 * The `digit-accuracy` metric: value = share of generated digits the classifier assigns to the requested
 * class (↑). details: `digitAccuracyPerClass`, `digitAccuracyConfidentPerClass` (confident share per
 * requested digit), `digitAccuracyConfidentCorrect`, `digitAccuracyConfidentShare` and the classifier's
 * held-out accuracy `digitAccuracyClassifier`. Same options (and cached classifier) as `digit-classifier`.
 */
export const digitAccuracyMetric = definePlugin({
  kind: 'metric',
  name: 'digit-accuracy',
  description: 'Conditional digits: share of samples the cached MNIST classifier assigns to the requested class (↑), and the confident share per class.',
  options: digitClassifierOptions,
  create(o, context): Metric {
    const name = 'digit-accuracy';
    return {
      name,
      higherIsBetter: true,
      check(ctx) {
        checkLabelNames(name, ctx.labelNames);
        if (ctx.labelNames && ctx.labelNames.length !== DIGITS) {
          throw new PluginError(`Metric "${name}": expects the ten digit classes 0…9, but this run has ${ctx.labelNames.length} classes.`, {
            hint: 'Use it with `dataset: { use: digits }`; for other labelled data use component-accuracy.',
          });
        }
      },
      async compute(generated, reference, ctx) {
        const resolution = digitImageResolution(ctx, name);
        const { n, m, early } = prepare(name, generated, reference, ctx);
        const labels = requireLabels(name, ctx, n, m);
        if (labels.names.length !== DIGITS) {
          throw new PluginError(`Metric "${name}": expects the ten digit classes 0…9 (class index = digit), got ${labels.names.length} classes.`, {
            hint: 'Use it with `dataset: { use: digits }`; for other labelled data use component-accuracy.',
          });
        }
        if (early) return early;
        const c = await loadDigitClassifierFor(o, resolution, context.print);
        const s = scoreRequestedDigits(predictProba(c.net, toGrey(generated)), labels.samples, o.threshold);
        return {
          value: s.accuracy,
          details: {
            digitAccuracyPerClass: s.accuracyPerClass,
            digitAccuracyConfidentPerClass: s.confidentPerClass,
            digitAccuracyConfidentCorrect: s.confidentCorrect,
            digitAccuracyConfidentShare: s.confidentShare,
            digitAccuracyClassifier: c.heldOutAccuracy,
          },
        };
      },
    };
  },
});
