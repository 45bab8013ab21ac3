/**
 * The sampling loop: wraps a model into the (ε̂, x̂₀) view samplers use, counts model evaluations,
 * batches large requests, snapshots the trajectory, and hands back plain typed arrays.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSamplerObjective, flowModelTime, type Objective, velocityToEpsilonAndX0 } from './flow.js';
import { type PredictionType, toEpsilonAndX0 } from './prediction.js';
import type { Rng } from './rng.js';
import { alphaBarAt, type NoiseSchedule } from './schedule.js';
import type { DenoiseFn, DenoiserModel, Sampler } from './spec.js';

/**
 * Adapts a flow-matching model into a {@link DenoiseFn}: t is the flow time in [0, 1], fed to the
 * network as {@link flowModelTime}, and the velocity becomes (ε̂, x̂₀) by {@link velocityToEpsilonAndX0}.
 */
function makeFlowDenoiseFn(model: Pick<DenoiserModel, 'predict'>, numTrainTimesteps: number): DenoiseFn {
  return (xt, t) =>
    tf.tidy(() => {
      const tt = tf.fill([xt.shape[0]], flowModelTime(t, numTrainTimesteps), 'float32');
      return velocityToEpsilonAndX0(model.predict(xt, tt), xt, t);
    });
}

/**
 * Adapts a model trained for `predictionType` (objective `ddpm`; `flow` models go through the flow adapter) into a {@link DenoiseFn}; ᾱ at fractional t uses
 * {@link alphaBarAt}, the same map samplers use to place steps.
 */
export function makeDenoiseFn(model: Pick<DenoiserModel, 'predict'>, schedule: NoiseSchedule, predictionType: PredictionType, objective: Objective = 'ddpm'): DenoiseFn {
  if (objective === 'flow') return makeFlowDenoiseFn(model, schedule.numTrainTimesteps);
  return (xt, t) =>
    tf.tidy(() => {
      const tt = tf.fill([xt.shape[0]], t, 'float32');
      const out = model.predict(xt, tt);
      return toEpsilonAndX0(predictionType, out, xt, alphaBarAt(schedule, t));
    });
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
  const base = makeDenoiseFn(p.model, p.schedule, p.predictionType, p.objective);
  let nfe = 0;
  let info: GenerateResult['info'];
  const start = performance.now();
  for (let off = 0, bi = 0; off < p.n; off += batch, bi++) {
    const n = Math.min(batch, p.n - off);
    const rng = bi === 0 ? p.rng : p.rng.fork(`batch${bi}`);
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
