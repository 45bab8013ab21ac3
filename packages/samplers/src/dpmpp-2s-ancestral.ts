/**
 * DPM-Solver++(2S) ancestral (Lu et al. 2022, "DPM-Solver++", Alg. 1 — the singlestep second-order
 * data-prediction solver with r = ½ — as k-diffusion's `sample_dpmpp_2s_ancestral`). Each step splits
 * σ → σ' into a deterministic part down to σ_down and fresh noise σ_up (σ_down² + σ_up² = σ'²,
 * k-diffusion's get_ancestral_step). With λ = −log σ, h = λ_down − λ and the midpoint
 * σ_s = √(σ·σ_down) (λ_s = λ + h/2):
 *   u = (σ_s/σ)·x_σ − (e^{−h/2} − 1)·x̂₀(x_σ, σ),
 *   x_{σ_down} = (σ_down/σ)·x_σ − (e^{−h} − 1)·x̂₀(u, σ_s),
 * then x_{σ'} = x_{σ_down} + σ_up·z. Both stages are convex combinations of the state and x̂₀, so no
 * model error is amplified. The last step (σ' = 0) is x = x̂₀, so NFE = 2·steps − 1; with η = 0 it is
 * the deterministic DPM-Solver++(2S).
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { advance, commonOptionFields, etaOption, sigmaOptionFields } from './common.js';
import { ancestralStep } from './euler-ancestral.js';
import { makeSigmaSampler, type SigmaOptions } from './sigmas.js';
import { withAdvice } from './advice.js';

/** Default step count of dpmpp-2s-ancestral (25 steps cost 49 model calls). */
export const DPMPP_2S_ANCESTRAL_DEFAULT_STEPS = 25;

/** Options of `dpmpp-2s-ancestral`. */
export interface Dpmpp2sAncestralOptions extends SigmaOptions {
  eta: number;
}

/** The dpmpp-2s-ancestral sampler; exported so programs can build one without the plugin registry. */
function buildDpmpp2sAncestral(options: Dpmpp2sAncestralOptions) {
  return makeSigmaSampler('dpmpp-2s-ancestral', options, DPMPP_2S_ANCESTRAL_DEFAULT_STEPS, (ctx) => {
    let x = ctx.initial();
    for (let i = 0; i < ctx.steps; i++) {
      const sigma = ctx.sigma(i);
      const { down, up } = ancestralStep(sigma, ctx.sigma(i + 1), options.eta);
      x = advance(x, () => {
        // σ = ∞ (zero terminal SNR): the midpoint is ∞ as well; take the first-order limit x̂₀ + σ_down·ε̂ + σ_up·z.
        if (!Number.isFinite(sigma)) return ctx.firstStepFromInfinity(x, down, up).x;
        const x0 = ctx.denoised(x, i);
        if (down === 0) return x0; // the last step: σ' = 0, no noise
        const h = Math.log(sigma) - Math.log(down);
        const mid = Math.sqrt(sigma * down);
        const u = tf.sub(tf.mul(x, mid / sigma), tf.mul(x0, Math.expm1(-h / 2)));
        const x0Mid = ctx.denoisedAtSigma(u, mid);
        const det = tf.sub(tf.mul(x, down / sigma), tf.mul(x0Mid, Math.expm1(-h)));
        return up > 0 ? tf.add(det, tf.mul(ctx.noise(), up)) : det;
      });
      ctx.report(i + 1, x);
    }
    return x;
  });
}

/** The `dpmpp-2s-ancestral` plugin: stochastic singlestep second-order solver, two model calls per step. */
export const dpmpp2sAncestralSampler = withAdvice(
  definePlugin({
    kind: 'sampler',
    name: 'dpmpp-2s-ancestral',
    description: 'DPM-Solver++(2S) ancestral (Lu et al. 2022; k-diffusion): 2nd-order singlestep solver plus fresh noise; NFE = 2·steps − 1. 25 steps (49 NFE)',
    options: z
      .object({
        ...commonOptionFields,
        steps: commonOptionFields.steps.describe(`Number of sampler steps (≤ T); omitted → ${DPMPP_2S_ANCESTRAL_DEFAULT_STEPS}`),
        ...sigmaOptionFields,
        eta: etaOption(1, 'Share of each step taken as fresh noise: 1 = full ancestral, 0 = the deterministic DPM-Solver++(2S)'),
      })
      .strict(),
    create: (options) => buildDpmpp2sAncestral(options),
  }),
);

/**
 * The `dpmpp-2s-ancestral` sampler from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createDpmpp2sAncestral({ … })`).
 */
export const createDpmpp2sAncestral = withDefaults(dpmpp2sAncestralSampler.options, buildDpmpp2sAncestral, 'sampler');
