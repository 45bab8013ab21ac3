/**
 * Euler's method on the flow-matching ODE dx/dt = v̂(x, t) (Lipman et al. 2023 eq. 1; Liu et al. 2023
 * eq. 1, where rectified flow samples with it), from t = 1 (noise) to t = 0 (data):
 * x_{t'} = x_t + (t' − t)·v̂(x_t, t). One model call per step. Only for models trained with
 * `training.objective: flow` (flow-common.ts).
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { advance, report } from './common.js';
import { type FlowOptions, flowOptionFields, makeFlowSampler, velocity } from './flow-common.js';

/**
 * Default step count: 20. Why: flow matching's near-straight paths make Euler accurate at few steps
 * (the target is 20 Euler steps on moons); with the oracle on the reference's 1-D mixture W1
 * is measured in flow.test.ts against 20 and 100 steps.
 */
export const FLOW_EULER_DEFAULT_STEPS = 20;

/** Builds the flow-euler sampler from parsed options (the plugin and its `create…` factory share it). */
function buildFlowEuler(options: FlowOptions) {
  return makeFlowSampler('flow-euler', options, FLOW_EULER_DEFAULT_STEPS, ({ denoise, x: start, grid, nfe, onStep }) => {
    let x = start;
    const steps = grid.length - 1;
    for (let i = 0; i < steps; i++) {
      const t = grid[i];
      const next = grid[i + 1];
      x = advance(x, () => {
        nfe.count++;
        return tf.add(x, tf.mul(velocity(denoise, x, t), next - t));
      });
      report(onStep, { step: i + 1, total: steps, t: next }, x);
    }
    return x;
  });
}

/** The `flow-euler` plugin: first-order ODE solver for flow-matching models, one model call per step. */
export const flowEulerSampler = definePlugin({
  kind: 'sampler',
  name: 'flow-euler',
  description: 'Euler ODE solver for flow-matching models (training.objective: flow) on t from 1 to 0 (Liu et al. 2023 eq. 1). 20 steps',
  options: z
    .object({
      ...flowOptionFields,
      steps: flowOptionFields.steps.describe(`Number of ODE steps on t ∈ [0, 1] (any count); omitted → ${FLOW_EULER_DEFAULT_STEPS}`),
    })
    .strict(),
  create: (options) => buildFlowEuler(options),
});

/**
 * The `flow-euler` sampler from options as a config writes them: the schema's defaults and checks
 * apply, so programs that skip the registry pass only what they change (`createFlowEuler({ … })`).
 */
export const createFlowEuler = withDefaults(flowEulerSampler.options, buildFlowEuler, 'sampler');
