/**
 * Euler ancestral sampling (k-diffusion `sample_euler_ancestral`): each step goes deterministically
 * down to σ_down and adds fresh noise σ_up, with σ_up = min(σ', η·√(σ'²(σ² − σ'²)/σ²)) and
 * σ_down = √(σ'² − σ_up²), so the marginal noise level σ' is kept (the ancestral step of
 * Song et al. 2021 in σ-space). The last step lands on σ = 0 without noise.
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { advance, commonOptionFields, etaOption, sigmaOptionFields } from './common.js';
import { makeSigmaSampler, type SigmaOptions, toD } from './sigmas.js';
import { withAdvice } from './advice.js';

/**
 * Default step count: 100. A first-order method's error falls only as 1/steps; with the oracle on
 * cosine T = 1000 (20,000 samples, perfect-draw floor 0.0131) W1 is 0.028–0.031 at 50 steps and
 * 0.015–0.019 at 100, the first within 2× of the floor. For fewer model calls pick a
 * second-order solver (dpmpp-2m or unipc at 20 steps).
 */
export const EULER_ANCESTRAL_DEFAULT_STEPS = 100;

/** Options of `euler-ancestral`. */
export interface EulerAncestralOptions extends SigmaOptions {
  eta: number;
}

/**
 * k-diffusion's get_ancestral_step: splits σ → σ' into a deterministic part to σ_down and noise σ_up
 * with σ_down² + σ_up² = σ'². σ = ∞ (zero terminal SNR) gives its limit σ_up = η·σ'.
 */
export function ancestralStep(sigma: number, next: number, eta: number): { down: number; up: number } {
  if (eta === 0 || next === 0) return { down: next, up: 0 };
  const ratio = Number.isFinite(sigma) ? (sigma * sigma - next * next) / (sigma * sigma) : 1;
  const up = Math.min(next, eta * Math.sqrt(next * next * ratio));
  return { down: Math.sqrt(Math.max(0, next * next - up * up)), up };
}

/** Builds the euler-ancestral sampler from parsed options (the plugin and its `create…` factory share it). */
function buildEulerAncestral(options: EulerAncestralOptions) {
  return makeSigmaSampler('euler-ancestral', options, EULER_ANCESTRAL_DEFAULT_STEPS, (ctx) => {
    let x = ctx.initial();
    for (let i = 0; i < ctx.steps; i++) {
      const sigma = ctx.sigma(i);
      const { down, up } = ancestralStep(sigma, ctx.sigma(i + 1), options.eta);
      x = advance(x, () => {
        if (!Number.isFinite(sigma)) return ctx.firstStepFromInfinity(x, down, up).x;
        const x0 = ctx.denoised(x, i);
        const det = tf.add(x, tf.mul(toD(x, x0, sigma), down - sigma));
        return up > 0 ? tf.add(det, tf.mul(ctx.noise(), up)) : det;
      });
      ctx.report(i + 1, x);
    }
    return x;
  });
}

/** The `euler-ancestral` plugin: stochastic Euler, one model call per step. */
export const eulerAncestralSampler = withAdvice(
  definePlugin({
    kind: 'sampler',
    name: 'euler-ancestral',
    description: 'Euler ancestral sampler in σ-space (k-diffusion sample_euler_ancestral): Euler step plus fresh noise. First order: 100 steps',
    options: z
      .object({
        ...commonOptionFields,
        steps: commonOptionFields.steps.describe(`Number of sampler steps (≤ T); omitted → ${EULER_ANCESTRAL_DEFAULT_STEPS}`),
        ...sigmaOptionFields,
        eta: etaOption(1, 'Share of each step taken as fresh noise: 1 = full ancestral, 0 = plain Euler'),
      })
      .strict(),
    create: (options) => buildEulerAncestral(options),
  }),
);

/**
 * The `euler-ancestral` sampler from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createEulerAncestral({ … })`).
 */
export const createEulerAncestral = withDefaults(eulerAncestralSampler.options, buildEulerAncestral, 'sampler');
