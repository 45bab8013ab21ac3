/**
 * DPM-Solver++(2M) SDE (Lu et al. 2022, §5 and App. B; k-diffusion `sample_dpmpp_2m_sde`, midpoint
 * variant): the multistep data-prediction solver of the reverse SDE. With h = λ' − λ (λ = −log σ),
 * x_{σ'} = (σ'/σ)e^{−ηh}·x_σ + (1 − e^{−(1+η)h})·x̂₀ + ½(1 − e^{−(1+η)h})·(x̂₀ − x̂₀_prev)/r
 *          + σ'·√(1 − e^{−2ηh})·z, r = h_prev/h; the last step lands on σ = 0 with x = x̂₀.
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { commonOptionFields, etaOption, sigmaOptionFields, tidyStep } from './common.js';
import { makeSigmaSampler, type SigmaOptions } from './sigmas.js';
import { withAdvice } from './advice.js';

/** Default step count of dpmpp-2m-sde (stochastic solvers want a few more steps than the ODE one). */
export const DPMPP_2M_SDE_DEFAULT_STEPS = 25;

/** Options of `dpmpp-2m-sde`. */
export interface Dpmpp2mSdeOptions extends SigmaOptions {
  eta: number;
}

/** Builds the dpmpp-2m-sde sampler from parsed options (the plugin and its `create…` factory share it). */
function buildDpmpp2mSde(options: Dpmpp2mSdeOptions) {
  const eta = options.eta;
  return makeSigmaSampler(
    'dpmpp-2m-sde',
    options,
    DPMPP_2M_SDE_DEFAULT_STEPS,
    (ctx) => {
      let x = ctx.initial();
      let old: tf.Tensor | null = null;
      let hLast = Number.NaN;
      for (let i = 0; i < ctx.steps; i++) {
        const sigma = ctx.sigma(i);
        const next = ctx.sigma(i + 1);
        const h = Math.log(sigma) - Math.log(next);
        const prev = old;
        const res = tidyStep(() => {
          if (!Number.isFinite(sigma)) {
            // σ → ∞: (σ'/σ)e^{−ηh}x_σ → σ'ε̂ if η = 0, else 0; the noise term → σ'z.
            return eta === 0 ? ctx.firstStepFromInfinity(x, next, 0) : ctx.firstStepFromInfinity(x, 0, next);
          }
          const x0 = ctx.denoised(x, i);
          if (next === 0) return { x: x0, x0: null as tf.Tensor | null };
          const etaH = eta * h;
          const c = -Math.expm1(-h - etaH); // 1 − e^{−(1+η)h}
          let xNext = tf.add(tf.mul(x, (next / sigma) * Math.exp(-etaH)), tf.mul(x0, c));
          if (prev !== null) {
            const invR = h / hLast; // 1/r; 0 after a step from σ = ∞
            xNext = tf.add(xNext, tf.mul(tf.sub(x0, prev), 0.5 * c * invR));
          }
          if (eta > 0) xNext = tf.add(xNext, tf.mul(ctx.noise(), next * Math.sqrt(-Math.expm1(-2 * etaH))));
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

/** The `dpmpp-2m-sde` plugin: stochastic second-order multistep solver, one model call per step. */
export const dpmpp2mSdeSampler = withAdvice(
  definePlugin({
    kind: 'sampler',
    name: 'dpmpp-2m-sde',
    description: 'DPM-Solver++(2M) SDE (Lu et al. 2022; k-diffusion, midpoint): stochastic 2nd-order multistep solver. 20–25 steps on any schedule',
    options: z
      .object({
        ...commonOptionFields,
        steps: commonOptionFields.steps.describe(`Number of sampler steps (≤ T); omitted → ${DPMPP_2M_SDE_DEFAULT_STEPS}`),
        ...sigmaOptionFields,
        eta: etaOption(1, 'Noise share η: 1 = the SDE solver, 0 = the deterministic DPM-Solver++(2M) ODE'),
      })
      .strict(),
    create: (options) => buildDpmpp2mSde(options),
  }),
);

/**
 * The `dpmpp-2m-sde` sampler from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createDpmpp2mSde({ … })`).
 */
export const createDpmpp2mSde = withDefaults(dpmpp2mSdeSampler.options, buildDpmpp2mSde, 'sampler');
