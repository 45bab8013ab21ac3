/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2). With steps = T it is exactly the reference
 * loop; with fewer steps it samples the posterior q(x_{t'} | xₜ, x̂₀) between the visited timesteps
 * (Ho et al. eq. 6–7 with β'ₜ = 1 − ᾱₜ/ᾱ_{t'}), as diffusers' DDPMScheduler does for spaced steps.
 */
import { definePlugin, posteriorVariance, type NoiseSchedule, type Sampler, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  advance,
  type CommonOptions,
  checkProcessing,
  commonOptionFields,
  configuredStepsCheck,
  normalTensor,
  predict,
  processes,
  report,
  spacedTimesteps,
  validateSteps,
} from './common.js';
import { withAdvice } from './advice.js';

/** The posterior variance choice of Ho et al. 2020 §3.2: β̃ₜ (fixed-small, the reference) or βₜ (fixed-large). */
export type DdpmVariance = 'fixed-small' | 'fixed-large';

/**
 * DDPM's `defaultSteps`: a stand-in for "T", since a sampler is created before the schedule is known;
 * why: when the config gives no `steps`, a call with this value (or none) means every timestep.
 */
export const DDPM_DEFAULT_STEPS = 1000;

/** Options of the `ddpm` sampler. */
export interface DdpmOptions extends CommonOptions {
  variance: DdpmVariance;
}

/** Builds the ddpm sampler from parsed options (the plugin and its `create…` factory share it). */
function buildDdpm(options: DdpmOptions): Sampler {
  checkProcessing(options);
  const defaultSteps = options.steps ?? DDPM_DEFAULT_STEPS;
  /** No explicit steps anywhere → T (the reference loop visits every t). */
  const resolve = (schedule: NoiseSchedule, steps: number | undefined): number => {
    const s = steps ?? options.steps;
    if (s === undefined || (options.steps === undefined && s === DDPM_DEFAULT_STEPS)) return schedule.numTrainTimesteps;
    return validateSteps(s, schedule);
  };
  const timesteps = (schedule: NoiseSchedule, steps: number): number[] => spacedTimesteps(schedule.numTrainTimesteps, resolve(schedule, steps), options.timestepSpacing);
  return {
    name: 'ddpm',
    defaultSteps,
    defaultStepsFor: (schedule) => options.steps ?? schedule.numTrainTimesteps,
    timesteps,
    describeLoop(schedule, requested) {
      // Exactly the `exact` branch of sample() below at every step: Ho et al. 2020 Alg. 2 over
      // every t with x̂₀ untouched; αₜ = 0 (zero terminal SNR) takes the posterior form instead.
      const T = schedule.numTrainTimesteps;
      if (resolve(schedule, requested) !== T || processes(options) || !schedule.alphas.every((a) => a > 0)) return null;
      return { kind: 'ddpm-ancestral', timesteps: spacedTimesteps(T, T, options.timestepSpacing), variance: options.variance };
    },
    check: configuredStepsCheck(options.steps),
    async sample({ denoise, schedule, shape, n, steps: requested, rng, onStep }) {
      const T = schedule.numTrainTimesteps;
      const steps = resolve(schedule, requested);
      const ts = spacedTimesteps(T, steps, options.timestepSpacing);
      const ab = schedule.alphasCumprod;
      // Exactly the reference update when every t is visited and x̂₀ is left alone.
      const exact = steps === T && !processes(options);
      let x = normalTensor(rng, n, shape);
      let nfe = 0;
      report(onStep, { step: 0, total: steps, t: ts[0] }, x);
      for (let i = 0; i < steps; i++) {
        const t = ts[i];
        const last = i === steps - 1;
        const alpha = schedule.alphas[t];
        x = advance(x, () => {
          nfe++;
          if (exact && alpha > 0) {
            // Ho et al. 2020 Alg. 2 line 4: x ← (1/√αₜ)(x − βₜ/√(1−ᾱₜ)·ε̂) + σₜz, σ²ₜ = β̃ₜ or βₜ.
            const { eps } = denoise(x, t);
            const beta = schedule.betas[t];
            let next = tf.mul(tf.sub(x, tf.mul(eps, beta / Math.sqrt(1 - ab[t]))), 1 / Math.sqrt(alpha));
            if (t > 0) {
              const variance = options.variance === 'fixed-small' ? posteriorVariance(schedule, t) : beta;
              next = tf.add(next, tf.mul(normalTensor(rng, n, shape), Math.sqrt(variance)));
            }
            return next;
          }
          // Posterior q(x_{t'} | xₜ, x̂₀) (Ho et al. eq. 7) between visited steps t → t' (ᾱ₋₁ = 1).
          // Also the zero-terminal-SNR step (αₜ = 0), where 1/√αₜ is infinite but the posterior is not.
          const abT = ab[t];
          const abPrev = last ? 1 : ab[ts[i + 1]];
          const betaT = 1 - abT / abPrev;
          const alphaT = 1 - betaT;
          const { x0 } = predict(denoise, x, t, abT, options);
          const mean = tf.add(tf.mul(x0, (Math.sqrt(abPrev) * betaT) / (1 - abT)), tf.mul(x, (Math.sqrt(alphaT) * (1 - abPrev)) / (1 - abT)));
          if (last) return mean;
          const variance = options.variance === 'fixed-small' ? ((1 - abPrev) / (1 - abT)) * betaT : betaT;
          return tf.add(mean, tf.mul(normalTensor(rng, n, shape), Math.sqrt(variance)));
        });
        report(onStep, { step: i + 1, total: steps, t: last ? -1 : ts[i + 1] }, x);
      }
      return { x, nfe };
    },
  };
}

/** The `ddpm` plugin: the reference sampler, one model call per visited timestep. */
export const ddpmSampler = withAdvice(
  definePlugin({
    kind: 'sampler',
    name: 'ddpm',
    description: 'DDPM ancestral sampling (Ho et al. 2020, Alg. 2); with steps = T exactly the reference loop. The quality reference (T NFE), not the fast choice',
    options: z
      .object({
        ...commonOptionFields,
        steps: commonOptionFields.steps.describe('Number of sampler steps (≤ T); omitted → T, every training timestep'),
        variance: z
          .enum(['fixed-small', 'fixed-large'])
          .default('fixed-small')
          .describe('σ²ₜ: fixed-small = βₜ(1−ᾱₜ₋₁)/(1−ᾱₜ) (the reference), fixed-large = βₜ (Ho et al. 2020 §3.2)'),
      })
      .strict(),
    create: (options) => buildDdpm(options),
  }),
);

/**
 * The `ddpm` sampler from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createDdpm({ … })`).
 */
export const createDdpm = withDefaults(ddpmSampler.options, buildDdpm, 'sampler');
