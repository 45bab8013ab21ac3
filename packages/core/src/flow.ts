/**
 * Conditional flow matching beside DDPM (`training.objective: flow`): linear interpolation paths
 * xₜ = (1 − t)·x₀ + t·ε with t ~ U[0, 1] and ε ~ N(0, I), and the network regressing the velocity
 * u = ε − x₀ with the loss ‖v̂(xₜ, t) − (ε − x₀)‖² (Lipman et al. 2023, "Flow Matching for Generative
 * Modeling", eq. 22–23, the optimal-transport path with σ_min = 0; Liu et al. 2023, "Flow Straight and
 * Fast" (rectified flow), eq. 1). Sampling integrates dx/dt = v̂(x, t) from t = 1 (noise) to t = 0
 * (data). The objective decides what a model's output and its time input mean, so it lives here once
 * and the training batch, the samplers' view of the model and the sampler check all follow it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from './errors.js';
import { minibatchOtPairing } from './minibatch-ot.js';
import type { Rng } from './rng.js';
import type { Sampler } from './spec.js';
import type { TrainBatch } from './training-path.js';

/**
 * What a model is trained for: `ddpm` — the discrete forward process of the noise schedule with
 * the target `training.predictionType` names (ε, x₀ or v); `flow` — conditional flow matching
 * (velocity on the linear path, see this file's header).
 */
export type Objective = 'ddpm' | 'flow';

/** All objectives, for option schemas and error messages. */
export const OBJECTIVES = ['ddpm', 'flow'] as const satisfies readonly Objective[];

/**
 * How flow-matching training draws t: `uniform` on [0, 1) (Lipman et al. 2023), or `logit-normal`,
 * t = sigmoid(u) with u ~ N(0, 1), which spends more of the training on mid-path times (Esser et
 * al. 2024, "Scaling Rectified Flow Transformers", eq. 19 with m = 0, s = 1).
 */
export type FlowTimeSampling = 'uniform' | 'logit-normal';

/** All flow time samplings, for the option schema. */
export const FLOW_TIME_SAMPLINGS = ['uniform', 'logit-normal'] as const satisfies readonly FlowTimeSampling[];

/**
 * How flow-matching training pairs data with noise: `independent` — each x₀ with its own ε draw
 * (Lipman et al. 2023); `minibatch-ot` — the batch's ε draws re-paired with its x₀ by the exact
 * minibatch optimal-transport plan (Tong et al. 2024, OT-CFM; see minibatch-ot.ts), for straighter
 * paths and so fewer sampling steps.
 */
export type FlowCoupling = 'independent' | 'minibatch-ot';

/** All flow couplings, for the option schema. */
export const FLOW_COUPLINGS = ['independent', 'minibatch-ot'] as const satisfies readonly FlowCoupling[];

/** How {@link makeFlowTrainingBatch} draws and pairs; every field defaults to the plain CFM batch. */
export interface FlowBatchOptions {
  /** How t is drawn (default `uniform`). */
  timeSampling?: FlowTimeSampling;
  /** How x₀ and ε are paired (default `independent`). */
  coupling?: FlowCoupling;
  /** The batch rows' (post-dropout) class labels: `minibatch-ot` pairs only within a label, so every class sees N(0, I) noise. */
  labels?: ArrayLike<number>;
}

/**
 * The network's time input for flow time t ∈ [0, 1]: t·T, with T the schedule's training
 * timesteps. Why: every denoiser (and the fused kernels) then sees its time input in the same
 * range [0, T] as under DDPM — `mlp` and `unet` embed 1000·t/T, `seed-mlp` takes it raw — so no
 * architecture needs to know the objective, and a flow model is saved and loaded like any other.
 */
export function flowModelTime(t: number, numTrainTimesteps: number): number {
  return t * numTrainTimesteps;
}

/**
 * Fills one flow-matching batch for the given rows of `x0`: per row t ~ U[0, 1) (or logit-normal,
 * {@link FlowTimeSampling}), then per value
 * ε ~ N(0, 1), xₜ = (1 − t)·x₀ + t·ε and the target u = ε − x₀ (Lipman et al. 2023 eq. 22–23;
 * Liu et al. 2023 eq. 1). `t` holds the network's time input {@link flowModelTime}(t, T). Drawn
 * from the seeded Rng on the CPU, like the DDPM batch, so every training path sees the same draws.
 * With `coupling: minibatch-ot` all of t, then all of ε are drawn first and ε's rows re-paired with
 * x₀'s by {@link minibatchOtPairing} (Tong et al. 2024, Alg. 1); `independent` keeps the draw order
 * (t, then that row's ε, row by row) so earlier runs stay bit-identical.
 */
export function makeFlowTrainingBatch(x0: Float32Array, rows: ArrayLike<number>, rowSize: number, numTrainTimesteps: number, rng: Rng, options: FlowBatchOptions = {}): TrainBatch {
  const { timeSampling = 'uniform', coupling = 'independent' } = options;
  const b = rows.length;
  const xt = new Float32Array(b * rowSize);
  const target = new Float32Array(b * rowSize);
  const t = new Float32Array(b);
  const drawT = () => (timeSampling === 'uniform' ? rng.uniform() : 1 / (1 + Math.exp(-rng.normal())));
  const fill = (i: number, ti: number, noise: Float64Array, noiseRow: number) => {
    t[i] = flowModelTime(ti, numTrainTimesteps);
    const base = rows[i] * rowSize;
    for (let j = 0; j < rowSize; j++) {
      const x = x0[base + j];
      const e = noise[noiseRow * rowSize + j];
      xt[i * rowSize + j] = (1 - ti) * x + ti * e;
      target[i * rowSize + j] = e - x;
    }
  };
  if (coupling === 'independent') {
    const noise = new Float64Array(rowSize);
    for (let i = 0; i < b; i++) {
      const ti = drawT();
      for (let j = 0; j < rowSize; j++) noise[j] = rng.normal();
      fill(i, ti, noise, 0);
    }
    return { xt, t, target, size: b };
  }
  const times = Float64Array.from({ length: b }, drawT);
  const noise = new Float64Array(b * rowSize);
  for (let k = 0; k < noise.length; k++) noise[k] = rng.normal();
  const data = new Float32Array(b * rowSize);
  for (let i = 0; i < b; i++) data.set(x0.subarray(rows[i] * rowSize, rows[i] * rowSize + rowSize), i * rowSize);
  const pairing = minibatchOtPairing(data, noise, rowSize, options.labels);
  for (let i = 0; i < b; i++) fill(i, times[i], noise, pairing[i]);
  return { xt, t, target, size: b };
}

/**
 * (ε̂, x̂₀) from a predicted velocity v̂ at flow time t: on the linear path xₜ = (1 − t)·x₀ + t·ε
 * with v = ε − x₀, x̂₀ = xₜ − t·v̂ and ε̂ = xₜ + (1 − t)·v̂ (so ε̂ − x̂₀ = v̂ exactly). Why: samplers
 * see every model through the same (ε̂, x̂₀) view ({@link DenoiseFn}), whatever its objective.
 * Callers own the returned tensors (use inside `tf.tidy`).
 */
export function velocityToEpsilonAndX0(v: tf.Tensor, xt: tf.Tensor, t: number): { eps: tf.Tensor; x0: tf.Tensor } {
  return { x0: tf.sub(xt, tf.mul(v, t)), eps: tf.add(xt, tf.mul(v, 1 - t)) };
}

/** The objectives whose models a sampler integrates: its declaration, else `ddpm` (every sampler written before flow matching). */
export function samplerObjectives(sampler: Pick<Sampler, 'objectives'>): readonly Objective[] {
  return sampler.objectives ?? ['ddpm'];
}

/** Plain words for each objective's models, for error messages. */
const MODELS: Record<Objective, string> = { ddpm: 'DDPM-family models (ε, x₀ or v prediction)', flow: 'flow-matching models (velocity)' };

/**
 * Refuses a sampler that cannot integrate models of `objective`, before any work: a DDPM sampler
 * would read a velocity as ε (or a flow sampler ε as a velocity) and return garbage without an
 * error. Why here: the rule reads only what the sampler declares ({@link Sampler.objectives}),
 * never its name; `choices` (the samplers that fit, when the caller knows them) go into the fix.
 */
export function assertSamplerObjective(sampler: Pick<Sampler, 'name' | 'objectives'>, objective: Objective, choices: readonly string[] = []): void {
  const supported = samplerObjectives(sampler);
  if (supported.includes(objective)) return;
  const pick =
    choices.length === 0
      ? `pick a sampler for ${MODELS[objective]} (\`diffusionlab list sampler\`)`
      : choices.length <= 3
        ? `use sampler.use=${choices.join(' or sampler.use=')}`
        : `use sampler.use=<one of ${choices.join(', ')}>`;
  throw new ConfigError(
    {
      path: 'sampler.use',
      message: `sampler ${JSON.stringify(sampler.name)} integrates ${supported.map((o) => MODELS[o]).join(' and ')}, but training.objective is ${objective}, which trains ${MODELS[objective]}`,
    },
    { hint: `${pick}, or train with training.objective=${supported[0]}` },
  );
}
