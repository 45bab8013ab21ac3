/**
 * Euler's method on the probability-flow ODE in σ-space (Karras et al. 2022, Alg. 1 without the
 * second-order correction; k-diffusion `sample_euler`): x_{σ'} = x_σ + (σ' − σ)·(x_σ − x̂₀)/σ, with the
 * state scaled as x_σ = xₜ/√ᾱ. The last step lands on σ = 0, so the result is the last x̂₀.
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { advance, commonOptionFields, sigmaOptionFields } from './common.js';
import { makeSigmaSampler, type SigmaOptions, toD } from './sigmas.js';
import { withAdvice } from './advice.js';

/**
 * Default step count: 100. A first-order method's error falls only as 1/steps; with the oracle on
 * cosine T = 1000 (20,000 samples, perfect-draw floor 0.0131) W1 is 0.028–0.031 at 50 steps and
 * 0.015–0.019 at 100, the first within 2× of the floor. For fewer model calls pick a
 * second-order solver (dpmpp-2m or unipc at 20 steps).
 */
export const EULER_DEFAULT_STEPS = 100;

/** Builds the euler sampler from parsed options (the plugin and its `create…` factory share it). */
function buildEuler(options: SigmaOptions) {
  return makeSigmaSampler('euler', options, EULER_DEFAULT_STEPS, (ctx) => {
    let x = ctx.initial();
    for (let i = 0; i < ctx.steps; i++) {
      const sigma = ctx.sigma(i);
      const next = ctx.sigma(i + 1);
      x = advance(x, () => {
        // σ = ∞ (zero terminal SNR): the limit of the Euler step is x̂₀ + σ'·ε̂.
        if (!Number.isFinite(sigma)) return ctx.firstStepFromInfinity(x, next, 0).x;
        const x0 = ctx.denoised(x, i);
        return tf.add(x, tf.mul(toD(x, x0, sigma), next - sigma));
      });
      ctx.report(i + 1, x);
    }
    return x;
  });
}

/** The `euler` plugin: first-order deterministic ODE solver, one model call per step. */
export const eulerSampler = withAdvice(
  definePlugin({
    kind: 'sampler',
    name: 'euler',
    description: 'Euler probability-flow ODE solver in σ-space (Karras et al. 2022 Alg. 1, first order). 100 steps; for 20 NFE pick dpmpp-3m-sde or unipc',
    options: z
      .object({
        ...commonOptionFields,
        steps: commonOptionFields.steps.describe(`Number of sampler steps (≤ T); omitted → ${EULER_DEFAULT_STEPS}`),
        ...sigmaOptionFields,
      })
      .strict(),
    create: (options) => buildEuler(options),
  }),
);

/**
 * The `euler` sampler from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createEuler({ … })`).
 */
export const createEuler = withDefaults(eulerSampler.options, buildEuler, 'sampler');
