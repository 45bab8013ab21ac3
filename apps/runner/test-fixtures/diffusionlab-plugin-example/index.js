/**
 * A third-party plugin package, as a user would publish one: it exports `plugins`, an array of
 * plugin definitions, and the runner loads it when a config lists it under `plugins:`.
 *
 * `x0-jump` is the crudest possible sampler, kept deterministic so tests can check it exactly:
 * draw x_T ~ N(0, I), ask the model once for x̂₀ at t = T − 1 (x̂₀ = (x_T − √(1−ᾱ_T)·ε̂)/√ᾱ_T,
 * Ho et al. 2020 eq. 15) and return it. One model evaluation, no noise added afterwards.
 */
import { definePlugin, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';

export const x0JumpSampler = definePlugin({
  kind: 'sampler',
  name: 'x0-jump',
  description: 'Example third-party sampler: one model call at t = T-1, returns the x0 estimate.',
  options: z.object({}).strict(),
  create: () => ({
    name: 'x0-jump',
    defaultSteps: 1,
    timesteps: (schedule) => [schedule.numTrainTimesteps - 1],
    async sample({ denoise, schedule, shape, n, rng }) {
      const size = n * shape.reduce((a, b) => a * b, 1);
      const x0 = tf.tidy(() => {
        const xT = tf.tensor(rng.normalArray(size), [n, ...shape]);
        const { x0: est } = denoise(xT, schedule.numTrainTimesteps - 1);
        return est;
      });
      return { x: x0, nfe: 1 };
    },
  }),
});

export const plugins = [x0JumpSampler];
