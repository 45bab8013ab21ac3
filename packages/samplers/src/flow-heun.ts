/**
 * Heun's second-order method on the flow-matching ODE dx/dt = v̂(x, t) (Lipman et al. 2023 eq. 1;
 * the trapezoidal corrector of Karras et al. 2022 Alg. 1, here in flow time): an Euler predictor
 * x̃ = x_t + h·v̂(x_t, t) with h = t' − t, then x_{t'} = x_t + h·(v̂(x_t, t) + v̂(x̃, t'))/2. The last
 * step (to t = 0) is plain Euler, as in Alg. 1, so NFE = 2·steps − 1 and no model is asked for a
 * velocity at t = 0 exactly (where the finite-set oracle's is singular). Only for models trained
 * with `training.objective: flow` (flow-common.ts).
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { advance, report } from './common.js';
import { type FlowOptions, flowOptionFields, makeFlowSampler, velocity } from './flow-common.js';

/** Default step count: 10 steps cost 19 model calls, about flow-euler's 20. */
export const FLOW_HEUN_DEFAULT_STEPS = 10;

/** Builds the flow-heun sampler from parsed options (the plugin and its `create…` factory share it). */
function buildFlowHeun(options: FlowOptions) {
  return makeFlowSampler('flow-heun', options, FLOW_HEUN_DEFAULT_STEPS, ({ denoise, x: start, grid, nfe, onStep }) => {
    let x = start;
    const steps = grid.length - 1;
    for (let i = 0; i < steps; i++) {
      const t = grid[i];
      const next = grid[i + 1];
      const h = next - t;
      x = advance(x, () => {
        nfe.count++;
        const d = velocity(denoise, x, t);
        const euler = tf.add(x, tf.mul(d, h));
        if (next === 0) return euler;
        nfe.count++;
        const d2 = velocity(denoise, euler, next);
        return tf.add(x, tf.mul(tf.add(d, d2), h / 2));
      });
      report(onStep, { step: i + 1, total: steps, t: next }, x);
    }
    return x;
  });
}

/** The `flow-heun` plugin: second-order ODE solver for flow-matching models, two model calls per step but the last. */
export const flowHeunSampler = definePlugin({
  kind: 'sampler',
  name: 'flow-heun',
  description: "Heun's 2nd-order ODE solver for flow-matching models (training.objective: flow) on t from 1 to 0; NFE = 2·steps − 1. 10 steps",
  options: z
    .object({
      ...flowOptionFields,
      steps: flowOptionFields.steps.describe(`Number of ODE steps on t ∈ [0, 1] (any count); omitted → ${FLOW_HEUN_DEFAULT_STEPS}`),
    })
    .strict(),
  create: (options) => buildFlowHeun(options),
});

/**
 * The `flow-heun` sampler from options as a config writes them: the schema's defaults and checks
 * apply, so programs that skip the registry pass only what they change (`createFlowHeun({ … })`).
 */
export const createFlowHeun = withDefaults(flowHeunSampler.options, buildFlowHeun, 'sampler');
