/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Alg. 2; k-diffusion `sample_dpmpp_2m`): a
 * second-order multistep solver of the data-prediction ODE in λ = −log σ. With h = λ' − λ and
 * r = h_prev/h: x_{σ'} = (σ'/σ)·x_σ − (e^{−h} − 1)·D, D = (1 + 1/(2r))·x̂₀ − (1/(2r))·x̂₀_prev
 * (first order on the first step and on the last, which lands on σ = 0 with x = x̂₀).
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { commonOptionFields, sigmaOptionFields, tidyStep } from './common.js';
import { makeSigmaSampler, type SigmaOptions } from './sigmas.js';
import { withAdvice } from './advice.js';

/** DPM-Solver++(2M)'s default step count (Lu et al. 2022 report good samples at 15–20 steps). */
export const DPMPP_2M_DEFAULT_STEPS = 20;

/** Builds the dpmpp-2m sampler from parsed options (the plugin and its `create…` factory share it). */
function buildDpmpp2m(options: SigmaOptions) {
  return makeSigmaSampler(
    'dpmpp-2m',
    options,
    DPMPP_2M_DEFAULT_STEPS,
    (ctx) => {
      let x = ctx.initial();
      // Multistep history: local to this call (x̂₀ of the previous step and its step size in λ).
      let old: tf.Tensor | null = null;
      let hLast = Number.NaN;
      for (let i = 0; i < ctx.steps; i++) {
        const sigma = ctx.sigma(i);
        const next = ctx.sigma(i + 1);
        const h = Math.log(sigma) - Math.log(next); // λ' − λ with λ = −log σ (∞ at either end)
        const prev = old;
        const res = tidyStep(() => {
          if (!Number.isFinite(sigma)) return ctx.firstStepFromInfinity(x, next, 0);
          const x0 = ctx.denoised(x, i);
          if (next === 0) return { x: x0, x0: null as tf.Tensor | null };
          let d = x0;
          if (prev !== null) {
            const half = h / (2 * hLast); // 1/(2r), r = h_last/h; 0 when h_last = ∞
            d = tf.sub(tf.mul(x0, 1 + half), tf.mul(prev, half));
          }
          const xNext = tf.sub(tf.mul(x, next / sigma), tf.mul(d, Math.expm1(-h)));
          return { x: xNext, x0 };
        });
        x.dispose();
        prev?.dispose();
        x = res.x;
        old = res.x0;
        hLast = h;
        ctx.report(i + 1, x);
      }
      (old as tf.Tensor | null)?.dispose();
      return x;
    },
    true,
  );
}

/** The `dpmpp-2m` plugin: second-order multistep ODE solver, one model call per step. */
export const dpmpp2mSampler = withAdvice(
  definePlugin({
    kind: 'sampler',
    name: 'dpmpp-2m',
    description: 'DPM-Solver++(2M) (Lu et al. 2022): 2nd-order multistep data-prediction ODE solver. Recommended: 20 steps on any schedule',
    options: z
      .object({
        ...commonOptionFields,
        steps: commonOptionFields.steps.describe(`Number of sampler steps (≤ T); omitted → ${DPMPP_2M_DEFAULT_STEPS}`),
        ...sigmaOptionFields,
      })
      .strict(),
    create: (options) => buildDpmpp2m(options),
  }),
);

/**
 * The `dpmpp-2m` sampler from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createDpmpp2m({ … })`).
 */
export const createDpmpp2m = withDefaults(dpmpp2mSampler.options, buildDpmpp2m, 'sampler');
