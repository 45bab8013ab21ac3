/**
 * `digit-frechet-distance`: the Fréchet distance of Heusel et al. 2017 (FID, §3, the equation for
 * d²((m, C), (m_w, C_w))), computed on the penultimate-layer features of the project's cached digit
 * classifier ({@link loadDigitClassifierFor}, the one `digit-classifier` uses: its ReLU hidden layer,
 * 128 units by default) in place of Inception's pool3 features:
 *
 *   d² = ‖μ_g − μ_r‖² + Tr(Σ_g + Σ_r − 2 (Σ_g Σ_r)^{1/2}),
 *
 * with μ, Σ the sample mean and (n − 1) covariance of the features of the generated and of the
 * reference images the metric context gives. The trace of the matrix square root is taken in
 * float64 through a symmetric eigen-decomposition (linalg.ts), never as a non-symmetric sqrtm.
 *
 * Lower is better; 0 only when both feature sets have the same mean and covariance. Like FID it is
 * biased upward for finite samples (Bińkowski et al. 2018, "Demystifying MMD GANs"): with the runner's 100
 * samples against a 128-wide feature space each covariance has rank ≤ 99, so two real draws are far
 * from 0 — the noise floor the runner shows (a held-out real draw against the reference) is that
 * bias, and values compare only at the same sample count.
 */
import { definePlugin, type Metric } from '@diffusionlab/core';
import { digitClassifierModelOptions, digitImageResolution, loadDigitClassifierFor, toGrey } from './digit-classifier.js';
import { type FrechetDistance, frechetDistance, meanAndCovariance } from './linalg.js';
import { hiddenActivations, type MlpClassifierWeights } from './mlp-classifier.js';
import { prepare } from './util.js';

/**
 * Fréchet distance between the classifier features (hidden activations) of two sets of model-space
 * digit images ([n, side²] and [m, side²], values in [-1, 1]); each set needs at least 2 images.
 * Why exported: the same number outside a run, e.g. between two checkpoints' samples.
 */
export function digitFrechetDistance(net: MlpClassifierWeights, generated: Float32Array, reference: Float32Array): FrechetDistance {
  const H = net.hidden;
  const g = hiddenActivations(net, toGrey(generated));
  const r = hiddenActivations(net, toGrey(reference));
  const a = meanAndCovariance(g, g.length / H, H);
  const b = meanAndCovariance(r, r.length / H, H);
  return frechetDistance(a.mean, a.cov, b.mean, b.cov, H);
}

/** Options of `digit-frechet-distance`: which cached classifier (the same options as `digit-classifier`, without its threshold). */
export const digitFrechetDistanceOptions = digitClassifierModelOptions;

/**
 * The `digit-frechet-distance` metric: value = the Fréchet distance between classifier features of
 * the generated and the reference images (↓). details: `digitFdMeanTerm` (‖μ_g − μ_r‖²),
 * `digitFdCovarianceTerm` (the trace term), `digitFdFeatures` (feature width, the classifier's hidden
 * units) and `digitFdClassifierAccuracy` (its held-out accuracy).
 */
export const digitFrechetDistanceMetric = definePlugin({
  kind: 'metric',
  name: 'digit-frechet-distance',
  description: 'Fréchet distance (FID, Heusel et al. 2017) between the cached MNIST classifier’s hidden features of generated and reference digits (↓).',
  options: digitFrechetDistanceOptions,
  create(o, context): Metric {
    const name = 'digit-frechet-distance';
    return {
      name,
      higherIsBetter: false,
      async compute(generated, reference, ctx) {
        const resolution = digitImageResolution(ctx, name);
        // Two rows at least: a covariance needs them.
        const { early } = prepare(name, generated, reference, ctx, 2);
        if (early) return early;
        const c = await loadDigitClassifierFor(o, resolution, context.print);
        const fd = digitFrechetDistance(c.net, generated, reference);
        return {
          value: fd.distance,
          details: {
            digitFdMeanTerm: fd.meanTerm,
            digitFdCovarianceTerm: fd.covarianceTerm,
            digitFdFeatures: c.net.hidden,
            digitFdClassifierAccuracy: c.heldOutAccuracy,
          },
        };
      },
    };
  },
});
