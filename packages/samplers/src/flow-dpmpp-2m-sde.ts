/**
 * DPM-Solver++(2M) SDE for flow-matching models: the second-order multistep solver of the reverse
 * SDE in data prediction (Lu et al. 2022, "DPM-Solver++", §4 and App. B, the SDE variant with the
 * midpoint correction), written for the linear path x_t = α_t·x₀ + σ_t·ε with α_t = 1 − t, σ_t = t.
 * With λ_t = log(α_t/σ_t), h = λ_s − λ_t and the model's x̂₀ = x − t·v̂ (flow-common.ts), one step
 * from t to s < t is
 *   x_s = (σ_s/σ_t)·e^{−h}·x_t + α_s·(1 − e^{−2h})·D + σ_s·√(1 − e^{−2h})·z,  z ~ N(0, I),
 * with D = x̂₀(t) on the first steps and D = x̂₀(t) + (x̂₀(t) − x̂₀(t_prev))/(2r), r = h_prev/h, after
 * (the 2M multistep correction). At t = 1 (α = 0, λ = −∞) the step is x_s = α_s·x̂₀ + σ_s·z; the last
 * step (s = 0) returns x̂₀. Why beside flow-euler: the noise re-injected each step washes out part
 * of a trained network's error, and the second-order data term keeps few steps accurate; on the
 * DDPM model of moons the σ-space twin (dpmpp-2m-sde) matches 1000 ancestral steps at 20
 * (examples/README.md). Only for models trained with `training.objective: flow`.
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { advance, normalTensor, report } from './common.js';
import { type FlowOptions, flowOptionFields, makeFlowSampler } from './flow-common.js';

/** Default step count: 20, one model call each, as flow-euler. */
export const FLOW_DPMPP_2M_SDE_DEFAULT_STEPS = 20;

/**
 * One step's coefficients from t to s < t: x_s = x·x_t + d·D + noise·z (module comment), and
 * h = λ_s − λ_t (Infinity from t = 1 or to s = 0, where the terms reduce as stated there). Why
 * exported: the tests replay runs in float64 from the same inputs.
 */
export function flowDpmSdeCoefficients(t: number, s: number): { x: number; d: number; noise: number; h: number } {
  if (s === 0) return { x: 0, d: 1, noise: 0, h: Number.POSITIVE_INFINITY };
  const [alphaS, sigmaS] = [1 - s, s];
  if (t === 1) return { x: 0, d: alphaS, noise: sigmaS, h: Number.POSITIVE_INFINITY };
  const h = Math.log(alphaS / sigmaS) - Math.log((1 - t) / t);
  const decay = Math.exp(-h);
  const keep = -Math.expm1(-2 * h); // 1 − e^{−2h}, accurate for small h
  return { x: (sigmaS / t) * decay, d: alphaS * keep, noise: sigmaS * Math.sqrt(keep), h };
}

/** Builds the flow-dpmpp-2m-sde sampler from parsed options (the plugin and its `create…` factory share it). */
function buildFlowDpmpp2mSde(options: FlowOptions) {
  return makeFlowSampler('flow-dpmpp-2m-sde', options, FLOW_DPMPP_2M_SDE_DEFAULT_STEPS, ({ denoise, x: start, grid, nfe, onStep, rng }) => {
    let x = start;
    let previous: { x0: tf.Tensor; h: number } | undefined;
    const steps = grid.length - 1;
    for (let i = 0; i < steps; i++) {
      const [t, s] = [grid[i], grid[i + 1]];
      const c = flowDpmSdeCoefficients(t, s);
      nfe.count++;
      const x0 = tf.tidy(() => denoise(x, t).x0);
      // The 2M correction needs a finite previous step (the first step from t = 1 has h = ∞) and is skipped on the last.
      const prev = previous && Number.isFinite(previous.h) && Number.isFinite(c.h) ? previous : undefined;
      x = advance(x, () => {
        const d = prev ? tf.add(x0, tf.mul(tf.sub(x0, prev.x0), c.h / (2 * prev.h))) : x0;
        let next = tf.mul(d, c.d);
        if (c.x !== 0) next = tf.add(next, tf.mul(x, c.x));
        if (c.noise > 0) next = tf.add(next, tf.mul(normalTensor(rng, x.shape[0], x.shape.slice(1)), c.noise));
        return next;
      });
      previous?.x0.dispose();
      previous = { x0, h: c.h };
      report(onStep, { step: i + 1, total: steps, t: s }, x);
    }
    previous?.x0.dispose();
    return x;
  });
}

/** The `flow-dpmpp-2m-sde` plugin: second-order stochastic solver for flow-matching models, one model call per step. */
export const flowDpmpp2mSdeSampler = definePlugin({
  kind: 'sampler',
  name: 'flow-dpmpp-2m-sde',
  description:
    'DPM-Solver++(2M) SDE for flow-matching models (training.objective: flow) on t from 1 to 0 (Lu et al. 2022, SDE variant, on α = 1 − t, σ = t). 20 steps; its noise washes out model error that ODE solvers carry',
  options: z
    .object({
      ...flowOptionFields,
      steps: flowOptionFields.steps.describe(`Number of steps on t ∈ [0, 1] (any count); omitted → ${FLOW_DPMPP_2M_SDE_DEFAULT_STEPS}`),
    })
    .strict(),
  create: (options) => buildFlowDpmpp2mSde(options),
});

/**
 * The `flow-dpmpp-2m-sde` sampler from options as a config writes them: the schema's defaults and
 * checks apply, so programs that skip the registry pass only what they change.
 */
export const createFlowDpmpp2mSde = withDefaults(flowDpmpp2mSdeSampler.options, buildFlowDpmpp2mSde, 'sampler');
