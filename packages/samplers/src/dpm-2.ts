/**
 * DPM-2 (k-diffusion `sample_dpm_2`, after Karras et al. 2022 §3 and Lu et al. 2022's DPM-Solver-2):
 * a second-order midpoint method on the probability-flow ODE dx/dσ = (x − x̂₀)/σ (Karras et al. 2022
 * eq. 4 with s = 1), with the midpoint taken in log σ: σ_mid = √(σ·σ'),
 *   x_mid = x_σ + (σ_mid − σ)·d(x_σ, σ),   x_{σ'} = x_σ + (σ' − σ)·d(x_mid, σ_mid).
 * The last step (to σ = 0) is Euler, so NFE = 2·steps − 1. The correction weighs the denoiser's
 * change by σ/σ_mid, which is why the σ_max bound (`sigmaMax`) matters here as for Heun.
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { advance, commonOptionFields, sigmaOptionFields } from './common.js';
import { makeSigmaSampler, type SigmaOptions, toD } from './sigmas.js';
import { withAdvice } from './advice.js';

/** DPM-2's default step count: 25 steps cost 49 model calls, as Heun's. */
export const DPM_2_DEFAULT_STEPS = 25;

/** The dpm-2 sampler; exported so programs can build one without the plugin registry. */
function buildDpm2(options: SigmaOptions) {
  return makeSigmaSampler('dpm-2', options, DPM_2_DEFAULT_STEPS, (ctx) => {
    let x = ctx.initial();
    for (let i = 0; i < ctx.steps; i++) {
      const sigma = ctx.sigma(i);
      const next = ctx.sigma(i + 1);
      x = advance(x, () => {
        // σ = ∞ (zero terminal SNR): σ_mid = ∞ too; take the first-order limit x̂₀ + σ'·ε̂ (one NFE fewer).
        if (!Number.isFinite(sigma)) return ctx.firstStepFromInfinity(x, next, 0).x;
        const d = toD(x, ctx.denoised(x, i), sigma);
        if (next === 0) return tf.sub(x, tf.mul(d, sigma));
        const mid = Math.exp((Math.log(sigma) + Math.log(next)) / 2);
        const xMid = tf.add(x, tf.mul(d, mid - sigma));
        const dMid = toD(xMid, ctx.denoisedAtSigma(xMid, mid), mid);
        return tf.add(x, tf.mul(dMid, next - sigma));
      });
      ctx.report(i + 1, x);
    }
    return x;
  });
}

/** The `dpm-2` plugin: second-order midpoint ODE solver in log σ, two model calls per step but the last. */
export const dpm2Sampler = withAdvice(
  definePlugin({
    kind: 'sampler',
    name: 'dpm-2',
    description: 'DPM-2 (k-diffusion sample_dpm_2): 2nd-order midpoint-in-log-σ ODE solver; NFE = 2·steps − 1. 25 steps (49 NFE) on any schedule',
    options: z
      .object({
        ...commonOptionFields,
        steps: commonOptionFields.steps.describe(`Number of sampler steps (≤ T); omitted → ${DPM_2_DEFAULT_STEPS}`),
        ...sigmaOptionFields,
      })
      .strict(),
    create: (options) => buildDpm2(options),
  }),
);

/**
 * The `dpm-2` sampler from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createDpm2({ … })`).
 */
export const createDpm2 = withDefaults(dpm2Sampler.options, buildDpm2, 'sampler');
