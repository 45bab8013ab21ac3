/**
 * What the flow-matching samplers (`flow-euler`, `flow-heun`) share: their options, the time grid
 * on t ∈ [0, 1], the velocity read from core's (ε̂, x̂₀) view, and the loop scaffolding. They
 * integrate the ODE dx/dt = v̂(x, t) of a model trained with `training.objective: flow` (Lipman et
 * al. 2023 eq. 1 and 22–23; Liu et al. 2023 eq. 1) from t = 1, where x₁ = ε ~ N(0, I), down to
 * t = 0, the data. They declare `objectives: ['flow']`, so the runner refuses them for ε/x₀/v models
 * (and every DDPM-family sampler for flow models) before any work.
 */
import { type DenoiseFn, type Objective, type SampleOutput, type SampleParams, type Sampler, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { normalTensor, report } from './common.js';

/** The objectives a flow sampler integrates: flow-matching models only. */
export const FLOW_OBJECTIVES: readonly Objective[] = ['flow'];

/** Option fields of every flow sampler; `steps` gets each sampler's own default in its description. */
export const flowOptionFields = {
  steps: z
    .number({ error: 'sampler steps must be a number' })
    .int({ error: 'steps must be a positive integer' })
    .positive({ error: 'steps must be a positive integer' })
    .optional()
    .describe("Number of ODE steps on t ∈ [0, 1] (any count: the flow time is continuous); omitted → the sampler's default"),
  shift: z
    .number({ error: 'shift must be a positive number' })
    .positive({ error: 'shift must be a positive number' })
    .default(1)
    .describe('Time shift s of the grid, t ← s·t/(1 + (s − 1)·t) (Esser et al. 2024 §5.3.2): s > 1 spends more steps near the noise, s < 1 near the data; 1 = uniform steps'),
};

/** Parsed options of a flow sampler. */
export interface FlowOptions {
  steps?: number;
  shift: number;
}

/**
 * The decreasing flow times t₀ = 1 > t₁ > … > t_S = 0 of an S-step run: uniform tᵢ = 1 − i/S,
 * then shifted, t ← s·t/(1 + (s − 1)·t) (Esser et al. 2024 §5.3.2), which keeps 0 and 1 fixed and
 * is monotone for s > 0. S + 1 points: the model is evaluated at the first S (Euler) or at all but
 * the last twice (Heun's corrector).
 */
export function flowTimeGrid(steps: number, shift: number): number[] {
  const out: number[] = [];
  for (let i = 0; i <= steps; i++) {
    const t = 1 - i / steps;
    out.push(shift === 1 ? t : (shift * t) / (1 + (shift - 1) * t));
  }
  return out;
}

/**
 * The velocity v̂(x, t) = ε̂ − x̂₀ from core's (ε̂, x̂₀) view of a flow model (which derives both
 * from v̂: x̂₀ = x − t·v̂, ε̂ = x + (1 − t)·v̂, so the difference is v̂ exactly). Call in tf.tidy.
 */
export function velocity(denoise: DenoiseFn, x: tf.Tensor, t: number): tf.Tensor {
  const { eps, x0 } = denoise(x, t);
  return tf.sub(eps, x0);
}

/** One solver's loop over the grid: returns the final state, which it owns; counts its own model calls in `nfe`. */
export type FlowStepper = (p: {
  denoise: DenoiseFn;
  x: tf.Tensor;
  grid: readonly number[];
  nfe: { count: number };
  onStep: SampleParams['onStep'];
  /** The run's seeded generator, after x₁'s draw: stochastic steps draw their noise from it. */
  rng: SampleParams['rng'];
}) => tf.Tensor;

/** A flow sampler: x₁ ~ N(0, I) from the seeded rng, then `stepper` over {@link flowTimeGrid}. */
export function makeFlowSampler(name: string, options: FlowOptions, defaultSteps: number, stepper: FlowStepper): Sampler {
  const own = options.steps ?? defaultSteps;
  const grid = (steps: number): number[] => {
    if (!Number.isInteger(steps) || steps <= 0) throw new RangeError(`${name}: steps must be a positive integer, got ${steps}`);
    return flowTimeGrid(steps, options.shift);
  };
  return {
    name,
    defaultSteps: own,
    objectives: FLOW_OBJECTIVES,
    // The flow times where a step starts (decreasing in (0, 1]); no bound by the schedule's T.
    timesteps: (_schedule, steps) => grid(steps).slice(0, -1),
    async sample({ denoise, shape, n, steps: requested, rng, onStep }: SampleParams): Promise<SampleOutput> {
      const steps = requested ?? own;
      const ts = grid(steps);
      const x = normalTensor(rng, n, shape);
      report(onStep, { step: 0, total: steps, t: ts[0] }, x);
      const nfe = { count: 0 };
      const out = stepper({ denoise, x, grid: ts, nfe, onStep, rng });
      return { x: out, nfe: nfe.count };
    },
  };
}
