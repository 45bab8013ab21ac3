/**
 * Heun's second-order method on the probability-flow ODE (Karras et al. 2022, Alg. 1 with
 * S_churn = 0; k-diffusion `sample_heun`): an Euler predictor to σ', then the trapezoidal corrector
 * x_{σ'} = x_σ + (σ' − σ)·(d + d')/2. The last step (to σ = 0) is plain Euler, so NFE = 2·steps − 1.
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { advance, commonOptionFields, sigmaOptionFields } from './common.js';
import { makeSigmaSampler, type SigmaOptions, toD } from './sigmas.js';

/** Heun's default step count: 25 steps cost 49 model calls, about Euler's 50. */
export const HEUN_DEFAULT_STEPS = 25;

/** Builds the heun sampler from parsed options (the plugin and its `create…` factory share it). */
function buildHeun(options: SigmaOptions) {
  return makeSigmaSampler('heun', options, HEUN_DEFAULT_STEPS, (ctx) => {
    let x = ctx.initial();
    for (let i = 0; i < ctx.steps; i++) {
      const sigma = ctx.sigma(i);
      const next = ctx.sigma(i + 1);
      x = advance(x, () => {
        // σ = ∞ (zero terminal SNR): no finite trapezoid; take the Euler limit x̂₀ + σ'·ε̂ (one NFE fewer).
        if (!Number.isFinite(sigma)) return ctx.firstStepFromInfinity(x, next, 0).x;
        const d = toD(x, ctx.denoised(x, i), sigma);
        const dt = next - sigma;
        const euler = tf.add(x, tf.mul(d, dt));
        if (next === 0) return euler;
        const d2 = toD(euler, ctx.denoised(euler, i + 1), next);
        return tf.add(x, tf.mul(tf.add(d, d2), dt / 2));
      });
      ctx.report(i + 1, x);
    }
    return x;
  });
}

/** The `heun` plugin: second-order deterministic ODE solver, two model calls per step but the last. */
export const heunSampler = definePlugin({
  kind: 'sampler',
  name: 'heun',
  description: "Heun's 2nd-order ODE solver in σ-space (Karras et al. 2022 Alg. 1); NFE = 2·steps − 1",
  options: z
    .object({
      ...commonOptionFields,
      steps: commonOptionFields.steps.describe(`Number of sampler steps (≤ T); omitted → ${HEUN_DEFAULT_STEPS}`),
      ...sigmaOptionFields,
    })
    .strict(),
  create: (options) => buildHeun(options),
});

/**
 * The `heun` sampler from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createHeun({ … })`).
 */
export const createHeun = withDefaults(heunSampler.options, buildHeun, 'sampler');
