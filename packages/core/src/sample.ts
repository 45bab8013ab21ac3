/**
 * The sampling loop: wraps a model into the (ε̂, x̂₀) view samplers use, counts model evaluations,
 * batches large requests, snapshots the trajectory, and hands back plain typed arrays.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Autoguide, autoguidedPredict, type RawPredict } from './autoguidance.js';
import { assertSamplerObjective, flowModelTime, type Objective, velocityToEpsilonAndX0 } from './flow.js';
import { type PredictionType, toEpsilonAndX0 } from './prediction.js';
import type { Rng } from './rng.js';
import { alphaBarAt, type NoiseSchedule } from './schedule.js';
import type { DenoiseFn, DenoiserModel, Sampler } from './spec.js';

/**
 * Adapts a model into the {@link DenoiseFn} every sampler uses. Objective `ddpm`: the output, read as
 * `predictionType`, becomes (ε̂, x̂₀) with ᾱ at fractional t from {@link alphaBarAt}, the same map
 * samplers use to place steps. Objective `flow`: t is the flow time in [0, 1], fed to the network as
 * {@link flowModelTime}, and the velocity becomes (ε̂, x̂₀) by {@link velocityToEpsilonAndX0}. A
 * `condition` guides the raw output first ({@link Condition}); both conversions are affine in it at
 * fixed xₜ with weights summing to 1, so guiding the output is guiding ε̂ and x̂₀. A `guide` (autoguidance,
 * {@link autoguidedPredict}) is combined the same way, after each model's own conditioning.
 */
export function makeDenoiseFn(
  model: Pick<DenoiserModel, 'predict'>,
  schedule: NoiseSchedule,
  predictionType: PredictionType,
  objective: Objective = 'ddpm',
  condition?: Condition,
  guide?: Autoguide,
): DenoiseFn {
  const rawOf =
    (m: Pick<DenoiserModel, 'predict'>): RawPredict =>
    (xt, modelTime) =>
      condition ? guidedPrediction(m, xt, modelTime, condition) : m.predict(xt, tf.fill([xt.shape[0]], modelTime, 'float32'));
  const predict = guide ? autoguidedPredict(rawOf(model), rawOf(guide.model), guide.weight) : rawOf(model);
  if (objective === 'flow') {
    const T = schedule.numTrainTimesteps;
    return (xt, t) => tf.tidy(() => velocityToEpsilonAndX0(predict(xt, flowModelTime(t, T)), xt, t));
  }
  return (xt, t) => tf.tidy(() => toEpsilonAndX0(predictionType, predict(xt, t), xt, alphaBarAt(schedule, t)));
}

/** The class of each row and the guidance scale with which a conditional model is sampled. */
export interface Condition {
  /** Class index of each row of xₜ, in [0, K). */
  labels: Int32Array;
  /** The null class K (no label), for the unconditional half. */
  nullIndex: number;
  /** Guidance scale w (1 = plain conditional, 0 = unconditional). */
  guidance: number;
}

/**
 * Classifier-free guidance (Ho & Salimans 2022, eq. 6) in this convention:
 * out = out_u + w·(out_c − out_u), where out_c predicts with the row's class and out_u with the null
 * class. Ho & Salimans write ε̃ = (1 + w′)·ε_c − w′·ε_u, so w = 1 + w′: w = 1 is the plain
 * conditional model (w′ = 0), w = 0 the unconditional one, w > 1 strengthens the class. Combining
 * the raw outputs is exactly combining ε̂ (and x̂₀): each is affine in the output at fixed xₜ with
 * weights (1 − w) + w = 1. When both halves are needed they go through one model call on the
 * concatenated batch [xₜ; xₜ] with labels [y; ∅]; w = 1 and w = 0 need only one half.
 */
function guidedPrediction(model: Pick<DenoiserModel, 'predict'>, xt: tf.Tensor, t: number, c: Condition): tf.Tensor {
  // t is the network's time input (the DDPM step, or flowModelTime for a flow model)
  const n = xt.shape[0];
  if (c.labels.length !== n) throw new Error(`guided prediction: ${c.labels.length} labels for ${n} rows`);
  if (c.guidance === 1 || c.guidance === 0) {
    const labels = c.guidance === 1 ? tf.tensor1d(c.labels, 'int32') : tf.fill([n], c.nullIndex, 'int32');
    return model.predict(xt, tf.fill([n], t, 'float32'), labels);
  }
  const both = model.predict(tf.concat([xt, xt], 0), tf.fill([2 * n], t, 'float32'), tf.concat([tf.tensor1d(c.labels, 'int32'), tf.fill([n], c.nullIndex, 'int32')], 0));
  const [cond, uncond] = tf.split(both, 2, 0);
  return tf.add(uncond, tf.mul(tf.sub(cond, uncond), c.guidance));
}

/** One batch as a {@link SamplingLoop} sees it. */
export interface SamplingLoopBatch {
  n: number;
  /** The batch's stream: draw from it exactly as the sampler would (x_T first, then per-step noise). */
  rng: Rng;
  /** Steps (0 … total, the samplers' onStep numbering) whose state to return; empty for all but the first batch. */
  snapshotSteps: number[];
}

/** What a {@link SamplingLoop} returns for one batch, as plain data. */
export interface SamplingLoopResult {
  samples: Float32Array;
  snapshots: { step: number; t: number; samples: Float32Array }[];
  /** Model evaluations this batch took. */
  nfe: number;
}

/**
 * A whole sampler loop run outside tfjs (e.g. in fused kernels) for one batch. It must give the
 * sampler's samples for the same rng up to float rounding; generateSamples still does the
 * batching, rng forks, trajectory placement and timing, so both paths share them.
 */
export type SamplingLoop = (batch: SamplingLoopBatch) => Promise<SamplingLoopResult>;

/**
 * The steps at which a trajectory of `count` snapshots is taken over `total` steps (first and last
 * included); why: one placement for the tfjs loop and any {@link SamplingLoop}.
 */
export function trajectorySteps(count: number, total: number): number[] {
  return [...new Set(Array.from({ length: count }, (_, i) => Math.round((i * total) / Math.max(1, count - 1))))];
}

/** Inputs to {@link generateSamples}. */
export interface GenerateParams {
  model: Pick<DenoiserModel, 'predict'>;
  sampler: Sampler;
  schedule: NoiseSchedule;
  predictionType: PredictionType;
  /** The model's training objective (default `ddpm`); the sampler must declare it ({@link Sampler.objectives}). */
  objective?: Objective;
  shape: readonly number[];
  n: number;
  steps?: number;
  rng: Rng;
  /** Samples per sampler call; large n is split so memory stays bounded. Default: all at once. */
  batchSize?: number;
  /** Number of trajectory snapshots to keep (first batch only); 0 keeps none. */
  trajectorySnapshots?: number;
  onStep?: (step: number, total: number) => void;
  /** Runs each batch instead of `sampler.sample` (same draws, same result); `steps` is then its step count. */
  loop?: SamplingLoop;
  /**
   * For a conditional model: the class of each of the n samples, the null class and the guidance
   * scale (see {@link Condition}); every sampler gets the guided prediction through its DenoiseFn.
   */
  condition?: Condition;
  /** Autoguidance: a weaker copy of the model to extrapolate away from, and the weight ({@link Autoguide}). */
  guide?: Autoguide;
}

/** Generated samples as plain data. */
export interface GenerateResult {
  samples: Float32Array;
  nfe: number;
  seconds: number;
  steps: number;
  trajectory: { step: number; t: number; samples: Float32Array }[];
  /** The sampler's own report of its first batch (`SampleOutput.info`); absent when it gives none. */
  info?: Record<string, number | string | boolean>;
}

/** Runs a sampler for n samples; NFE is counted here, independently of what the sampler claims. */
export async function generateSamples(p: GenerateParams): Promise<GenerateResult> {
  assertSamplerObjective(p.sampler, p.objective ?? 'ddpm');
  const rowSize = p.shape.reduce((a, b) => a * b, 1);
  const steps = p.steps ?? p.sampler.defaultStepsFor?.(p.schedule) ?? p.sampler.defaultSteps;
  const batch = Math.max(1, Math.min(p.n, p.batchSize ?? p.n));
  const samples = new Float32Array(p.n * rowSize);
  const trajectory: GenerateResult['trajectory'] = [];
  const snaps = p.trajectorySnapshots ?? 0;
  // Snapshot steps are placed once the sampler says how many steps it takes (onStep's total).
  let wanted: Set<number> | null = null;
  const wantedFor = (total: number): Set<number> => {
    wanted ??= new Set(trajectorySteps(snaps, total));
    return wanted;
  };
  let nfe = 0;
  let info: GenerateResult['info'];
  const start = performance.now();
  for (let off = 0, bi = 0; off < p.n; off += batch, bi++) {
    const n = Math.min(batch, p.n - off);
    const rng = bi === 0 ? p.rng : p.rng.fork(`batch${bi}`);
    if (p.loop && p.condition) throw new Error('generateSamples: a fused sampling loop cannot run a conditional model; sample it on tfjs');
    if (p.loop && p.guide) throw new Error('generateSamples: a fused sampling loop runs one model; an autoguided one samples through the sampler');
    const base = makeDenoiseFn(p.model, p.schedule, p.predictionType, p.objective, p.condition && { ...p.condition, labels: p.condition.labels.subarray(off, off + n) }, p.guide);
    if (p.loop) {
      const r = await p.loop({ n, rng, snapshotSteps: bi === 0 && snaps > 0 ? [...wantedFor(steps)] : [] });
      samples.set(r.samples, off * rowSize);
      if (bi === 0) {
        trajectory.push(...r.snapshots);
        p.onStep?.(steps, steps);
      }
      nfe = Math.max(nfe, r.nfe);
      continue;
    }
    let evals = 0;
    const denoise: DenoiseFn = (x, t) => {
      evals++;
      return base(x, t);
    };
    const out = await p.sampler.sample({
      denoise,
      schedule: p.schedule,
      shape: p.shape,
      n,
      steps,
      rng,
      onStep: (info) => {
        if (bi === 0 && snaps > 0 && wantedFor(info.total).has(info.step)) {
          trajectory.push({ step: info.step, t: info.t, samples: info.x.dataSync().slice() as Float32Array });
        }
        if (bi === 0) p.onStep?.(info.step, info.total);
      },
    });
    if (bi === 0) info = out.info;
    const data = (await out.x.data()) as Float32Array;
    out.x.dispose();
    samples.set(data, off * rowSize);
    nfe = Math.max(nfe, evals);
  }
  return { samples, nfe, seconds: (performance.now() - start) / 1000, steps, trajectory, ...(info ? { info } : {}) };
}
