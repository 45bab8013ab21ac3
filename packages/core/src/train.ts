/**
 * The training loop: DDPM's simple objective (Ho et al. 2020, Algorithm 1, eq. 14) with the target
 * set by the prediction type. Data, timesteps and noise come from the seeded {@link Rng} on the
 * CPU, so a run is reproducible across backends; each step is one `tf.tidy`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { TrainingDivergedError } from './errors.js';
import { registerTfjsGradients } from './gradients.js';
import { type PredictionType, trainingTarget } from './prediction.js';
import type { Rng } from './rng.js';
import type { NoiseSchedule } from './schedule.js';
import type { DenoiserModel, EpochEndEvent, FusedTrainer, TrainAccelerator, TrainingSet, TrainProgressEvent } from './spec.js';

/** Training hyper-parameters (the `training:` block of a config). */
export interface TrainConfig {
  /** Passes over the training set; mutually exclusive with `steps`. */
  epochs?: number;
  /** Total optimiser steps; when set, epochs are derived from it. */
  steps?: number;
  batchSize: number;
  learningRate: number;
  optimizer?: 'adam' | 'adamw';
  beta1?: number;
  beta2?: number;
  /** Adam's ε; PyTorch's default 1e-8 (tfjs would otherwise use 1e-7). */
  epsilon?: number;
  /** Decoupled weight decay for AdamW (Loshchilov & Hutter 2019). */
  weightDecay?: number;
  /** Clip the global gradient norm to this value; off when undefined. */
  gradClipNorm?: number;
  predictionType: PredictionType;
  /** Log (print and record) the mean epoch loss every this many epochs. */
  logEvery: number;
}

/** Inputs to {@link train}. */
export interface TrainParams {
  model: DenoiserModel;
  trainingSet: TrainingSet;
  shape: readonly number[];
  schedule: NoiseSchedule;
  config: TrainConfig;
  rng: Rng;
  onProgress?: (e: TrainProgressEvent) => void;
  onEpochEnd?: (e: EpochEndEvent) => void | Promise<void>;
  /** Fast path to try first; it declines models or options it does not match. */
  accelerator?: TrainAccelerator;
  /** Active tfjs backend, passed to the accelerator's match. */
  backend?: string;
}

/** What a training run achieved, for the summary. */
export interface TrainResult {
  steps: number;
  epochs: number;
  seconds: number;
  stepsPerSecond: number;
  finalLoss: number;
  lossHistory: { epoch: number; step: number; loss: number }[];
  /** `fused:<name>` when an accelerator ran the steps, `tfjs` for the reference path. */
  path: string;
  /** Why the accelerator declined, when one was offered and did not run. */
  acceleratorDeclined?: string;
}

/** Batches per epoch as a DataLoader with drop_last=False counts them. */
export function batchesPerEpoch(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
}

/** Total steps and epochs implied by a config (steps wins when given). */
export function trainingLength(count: number, config: Pick<TrainConfig, 'epochs' | 'steps' | 'batchSize'>): { steps: number; epochs: number } {
  const per = batchesPerEpoch(count, config.batchSize);
  if (config.steps !== undefined) return { steps: config.steps, epochs: Math.ceil(config.steps / per) };
  const epochs = config.epochs ?? 1;
  return { steps: epochs * per, epochs };
}

/**
 * Fills xₜ = √ᾱₜ·x₀ + √(1−ᾱₜ)·ε (DDPM eq. 4) and the training target for one batch, on the CPU.
 * Exported for tests and for fused training paths that share the exact same draws.
 */
export function makeTrainingBatch(
  x0: Float32Array,
  rows: ArrayLike<number>,
  rowSize: number,
  schedule: NoiseSchedule,
  predictionType: PredictionType,
  rng: Rng,
): { xt: Float32Array; t: Float32Array; target: Float32Array } {
  const b = rows.length;
  const T = schedule.numTrainTimesteps;
  const xt = new Float32Array(b * rowSize);
  const target = new Float32Array(b * rowSize);
  const t = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    const ti = rng.int(T);
    t[i] = ti;
    const ab = schedule.alphasCumprod[ti];
    const sa = Math.sqrt(ab);
    const sb = Math.sqrt(1 - ab);
    const base = rows[i] * rowSize;
    for (let j = 0; j < rowSize; j++) {
      const x = x0[base + j];
      const e = rng.normal();
      xt[i * rowSize + j] = sa * x + sb * e;
      target[i * rowSize + j] = trainingTarget(predictionType, x, e, sa, sb);
    }
  }
  return { xt, t, target };
}

function makeOptimizer(c: TrainConfig): tf.Optimizer {
  return tf.train.adam(c.learningRate, c.beta1 ?? 0.9, c.beta2 ?? 0.999, c.epsilon ?? 1e-8);
}

/** Scales gradients so their global L2 norm is at most `maxNorm` (as torch.nn.utils.clip_grad_norm_). */
function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  const names = Object.keys(grads);
  const sq = tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))));
  const scale = tf.minimum(1, tf.div(maxNorm, tf.add(tf.sqrt(sq), 1e-6)));
  const out: tf.NamedTensorMap = {};
  for (const n of names) out[n] = tf.mul(grads[n], scale);
  return out;
}

/** Trains `model` in place and returns what happened; throws {@link TrainingDivergedError} on NaN/Inf loss. */
export async function train(p: TrainParams): Promise<TrainResult> {
  const { model, trainingSet, shape, schedule, config, rng } = p;
  await registerTfjsGradients();
  const rowSize = shape.reduce((a, b) => a * b, 1);
  const count = trainingSet.count;
  const { steps: totalSteps, epochs } = trainingLength(count, config);
  const per = batchesPerEpoch(count, config.batchSize);
  const optimizer = makeOptimizer(config);
  const vars = model.variables as tf.Variable[];
  const decay = config.optimizer === 'adamw' ? (config.weightDecay ?? 0.01) : 0;
  const lossAcc = tf.tidy(() => tf.variable(tf.scalar(0), false, `lossAcc_${Date.now()}_${Math.random()}`));
  const history: TrainResult['lossHistory'] = [];
  const start = performance.now();
  let step = 0;
  let lastFinite: number | null = null;
  let finalLoss = Number.NaN;

  let fused: FusedTrainer | null = null;
  let declined: string | undefined;
  if (p.accelerator) {
    const made = p.accelerator.create(model, {
      optimizer: config.optimizer ?? 'adam',
      learningRate: config.learningRate,
      beta1: config.beta1 ?? 0.9,
      beta2: config.beta2 ?? 0.999,
      epsilon: config.epsilon ?? 1e-8,
      weightDecay: decay,
      gradClipNorm: config.gradClipNorm,
      backend: p.backend ?? tf.getBackend(),
    });
    if (typeof made === 'string') declined = made;
    else fused = made;
  }
  const dataRng = rng.fork('shuffle');
  const noiseRng = rng.fork('noise');
  try {
    for (let epoch = 1; epoch <= epochs && step < totalSteps; epoch++) {
      const source = trainingSet.fresh ? trainingSet.fresh(count, dataRng) : trainingSet.data;
      const order = trainingSet.fresh ? null : dataRng.permutation(count);
      let batches = 0;
      for (let bi = 0; bi < per && step < totalSteps; bi++) {
        const lo = bi * config.batchSize;
        const hi = Math.min(count, lo + config.batchSize);
        const rows = order ? order.subarray(lo, hi) : Uint32Array.from({ length: hi - lo }, (_, i) => lo + i);
        const batch = makeTrainingBatch(source, rows, rowSize, schedule, config.predictionType, noiseRng);
        const b = rows.length;
        if (fused) fused.step({ ...batch, size: b });
        else tf.tidy(() => {
          const xt = tf.tensor(batch.xt, [b, ...shape]);
          const t = tf.tensor1d(batch.t);
          const target = tf.tensor(batch.target, [b, ...shape]);
          const lossFn = () => tf.mean(tf.squaredDifference(model.predict(xt, t), target)) as tf.Scalar;
          if (decay === 0 && config.gradClipNorm === undefined) {
            const cost = optimizer.minimize(lossFn, true, vars) as tf.Scalar;
            lossAcc.assign(tf.add(lossAcc, cost));
          } else {
            const { value, grads } = optimizer.computeGradients(lossFn, vars);
            const g = config.gradClipNorm !== undefined ? clipByGlobalNorm(grads, config.gradClipNorm) : grads;
            if (decay > 0) for (const v of vars) v.assign(tf.mul(v, 1 - config.learningRate * decay));
            optimizer.applyGradients(g);
            lossAcc.assign(tf.add(lossAcc, value));
          }
        });
        step++;
        batches++;
        p.onProgress?.({ step, totalSteps, epoch, epochs, elapsedSeconds: (performance.now() - start) / 1000 });
      }
      let lossSum: number;
      if (fused) lossSum = fused.takeLossSum();
      else {
        lossSum = (await lossAcc.data())[0];
        tf.tidy(() => lossAcc.assign(tf.zerosLike(lossAcc)));
      }
      const meanLoss = lossSum / batches;
      if (!Number.isFinite(meanLoss)) throw new TrainingDivergedError(step, lastFinite);
      lastFinite = meanLoss;
      finalLoss = meanLoss;
      history.push({ epoch, step, loss: meanLoss });
      const logged = epoch % config.logEvery === 0 || epoch === epochs;
      await p.onEpochEnd?.({
        epoch,
        epochs,
        step,
        totalSteps,
        meanLoss,
        logged,
        elapsedSeconds: (performance.now() - start) / 1000,
        learningRate: config.learningRate,
      });
    }
  } finally {
    if (fused) {
      fused.syncToModel();
      fused.dispose();
    }
    lossAcc.dispose();
    optimizer.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    steps: step,
    epochs,
    seconds,
    stepsPerSecond: step / seconds,
    finalLoss,
    lossHistory: history,
    path: fused ? `fused:${p.accelerator?.name}` : 'tfjs',
    acceleratorDeclined: declined,
  };
}
