/**
 * The training loop: DDPM's simple objective (Ho et al. 2020, Algorithm 1, eq. 14) with the target
 * set by the prediction type, or conditional flow matching (`objective: flow`, flow.ts), plus what serious runs need: warm-up and cosine learning rates, an EMA
 * of the weights, periodic checkpoints that hold the whole training state, and exact resumption.
 * Data, timesteps and noise come from the seeded {@link Rng} on the CPU, so a run is reproducible
 * across backends. The optimiser steps run on a {@link TrainingPath}: core's tfjs one, or a fast path
 * a {@link TrainAccelerator} offers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ConditioningConfig, conditioningSchema, dropLabels, nullClass } from './conditioning.js';
import { ConfigError, TrainingDivergedError } from './errors.js';
import { makeFlowTrainingBatch } from './flow.js';
import { registerTfjsGradients } from './gradients.js';
import { learningRateAt } from './lr.js';
import { parseOptions } from './options.js';
import type { Rng } from './rng.js';
import type { NoiseSchedule } from './schedule.js';
import type { DenoiserModel, EpochEndEvent, TrainingSet, TrainProgressEvent } from './spec.js';
import { createTfjsTrainingPath } from './tfjs-training-path.js';
import { makeTrainingBatch } from './training-batch.js';
import { type TrainConfig, type TrainConfigInput, trainingSchema } from './training-config.js';
import type { TrainAccelerator, TrainingPath, TrainingPathContext, TrainingPathState } from './training-path.js';

/** Everything needed to continue a run on the exact same trajectory: the loop's position plus the path's state. */
export interface TrainState extends TrainingPathState {
  /** Epochs completed. */
  epoch: number;
  step: number;
  /** Generator states; `condition` (the label-dropout stream) only for conditional models. */
  rng: { shuffle: number[]; noise: number[]; condition?: number[] };
  lastFiniteLoss: number | null;
  lossHistory: { epoch: number; step: number; loss: number }[];
}

/** Inputs to {@link train}. */
export interface TrainParams {
  model: DenoiserModel;
  trainingSet: TrainingSet;
  shape: readonly number[];
  schedule: NoiseSchedule;
  /** Parsed through {@link trainingSchema}: keys left out take their defaults. */
  config: TrainConfigInput;
  rng: Rng;
  onProgress?: (e: TrainProgressEvent) => void;
  onEpochEnd?: (e: EpochEndEvent) => void | Promise<void>;
  /**
   * Receives the full training state every `config.checkpointEvery` epochs, with the model's
   * variables holding the weights to sample from (EMA when enabled) for the duration of the call.
   */
  onCheckpoint?: (state: TrainState) => void | Promise<void>;
  /**
   * Receives the step `config.guideSnapshotStep` once it is trained, with the model's variables
   * holding the weights to sample from (EMA when enabled) for the duration of the call: the
   * autoguidance guide ({@link autoguidedPredict}) is the model as it was then.
   */
  onGuideSnapshot?: (step: number) => void | Promise<void>;
  /** Continue from a state an earlier `onCheckpoint` produced. */
  resumeFrom?: TrainState;
  /** Fast path to try first (unless `config.accelerate` is false); it declines models or options it does not match. */
  accelerator?: TrainAccelerator;
  /** Active tfjs backend, passed to the accelerator's match. */
  backend?: string;
  /** Label dropout of a conditional model (one with `labelNames`); parsed through {@link conditioningSchema}. */
  conditioning?: Partial<ConditioningConfig>;
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
  /** The path's own notes on how it ran ({@link TrainingPath.notes}), when it has any. */
  pathNotes?: string;
  /** Step the run resumed from (0 for a fresh run). */
  resumedFromStep: number;
}

/** Batches per epoch as a DataLoader with drop_last=False counts them. */
export function batchesPerEpoch(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
}

/** Total steps and epochs implied by a config (steps wins when given). */
export function trainingLength(count: number, config: Pick<TrainConfig, 'epochs' | 'steps' | 'batchSize'>): { steps: number; epochs: number } {
  const per = batchesPerEpoch(count, config.batchSize);
  if (config.steps !== undefined) return { steps: config.steps, epochs: Math.ceil(config.steps / per) };
  if (config.epochs === undefined) throw new Error('trainingLength: the config has neither epochs nor steps; parse it with trainingSchema, which fills the default');
  return { steps: config.epochs * per, epochs: config.epochs };
}

/**
 * Refuses a guide snapshot step the run never reaches: the guide would silently be missing when
 * `sampler.autoguidance` asks for it. Why exported: the runner checks before it creates the run directory.
 */
export function checkGuideSnapshotStep(config: Pick<TrainConfig, 'guideSnapshotStep'>, totalSteps: number): void {
  const k = config.guideSnapshotStep;
  if (k === undefined || k < totalSteps) return;
  throw new ConfigError(
    { path: 'training.guideSnapshotStep', message: `is ${k}, but the run trains ${totalSteps} steps; the guide must be an earlier, weaker copy of the model` },
    { hint: `pick a step before the last, e.g. training.guideSnapshotStep=${Math.max(1, Math.round(totalSteps / 8))}` },
  );
}

/**
 * EMA decay for update n (1-based): with warm-up min(decay, (1 + n)/(10 + n)) (Tarvainen & Valpola
 * 2017 style ramp), so early averages are not dominated by the initial weights.
 */
function emaDecayAt(c: TrainConfig, decay: number, n: number): number {
  return c.emaWarmup ? Math.min(decay, (1 + n) / (10 + n)) : decay;
}

/** The accelerator's path when it takes this run, else core's tfjs path and why the accelerator declined. */
function choosePath(accelerator: TrainAccelerator | undefined, ctx: TrainingPathContext): { path: TrainingPath; declined?: string } {
  const made = accelerator?.create(ctx);
  if (made === undefined || typeof made === 'string') return { path: createTfjsTrainingPath(ctx), declined: made };
  return { path: made };
}

/** The error for an epoch whose mean loss is NaN or Infinity. */
function divergence(epoch: number, firstStep: number, step: number, lastFinite: number | null, learningRate: number): TrainingDivergedError {
  return new TrainingDivergedError(
    step,
    lastFinite,
    `The loss became non-finite during epoch ${epoch} (steps ${firstStep}–${step}). Lower training.learningRate ` +
      `(now ${learningRate}), set training.gradClipNorm, or use a schedule whose betas stay inside (0, 1); ` +
      'the last good checkpoint is kept.',
  );
}

/**
 * The label dropout of a conditional model: its own rng stream (so ε, t and the shuffle are drawn as
 * for an unconditional run), the null class and the dropout rate; null for unconditional models. A
 * conditional model needs a labelled training set: without labels it would silently learn nothing
 * of its classes, so that is an error.
 */
function conditionFor(p: TrainParams, resumed: number[] | undefined): { rng: Rng; dropout: number; nullIndex: number } | null {
  const names = p.model.labelNames;
  if (!names) return null;
  const hasLabels = p.trainingSet.fresh ? p.trainingSet.freshLabeled !== undefined : p.trainingSet.labels !== undefined;
  if (!hasLabels) {
    throw new ConfigError(
      { path: 'conditioning.enabled', message: 'the model is class-conditional but the training set has no labels' },
      { hint: 'use a dataset that provides labels, or set conditioning.enabled=false.' },
    );
  }
  const rng = p.rng.fork('condition');
  if (resumed) rng.setState(resumed);
  return { rng, dropout: parseOptions(conditioningSchema, p.conditioning ?? {}, 'conditioning').dropout, nullIndex: nullClass(names) };
}

/** Trains `model` in place and returns what happened; throws {@link TrainingDivergedError} on NaN/Inf loss. */
export async function train(p: TrainParams): Promise<TrainResult> {
  const { model, trainingSet, shape, schedule, rng, resumeFrom: s } = p;
  const config = parseOptions(trainingSchema, p.config, 'training');
  await registerTfjsGradients();
  const rowSize = shape.reduce((a, b) => a * b, 1);
  const count = trainingSet.count;
  const { steps: totalSteps, epochs } = trainingLength(count, config);
  checkGuideSnapshotStep(config, totalSteps);
  const per = batchesPerEpoch(count, config.batchSize);
  const weighting = { kind: config.lossWeighting, gamma: config.minSnrGamma };
  const shuffleRng = rng.fork('shuffle');
  const noiseRng = rng.fork('noise');
  const condition = conditionFor(p, s?.rng.condition);
  let step = s ? s.step : 0;
  let lastFinite = s ? s.lastFiniteLoss : null;
  const history = s ? s.lossHistory.slice() : [];
  if (s) {
    shuffleRng.setState(s.rng.shuffle);
    noiseRng.setState(s.rng.noise);
  }
  const resumedFromStep = step;
  const start = performance.now();
  const elapsedSeconds = () => (performance.now() - start) / 1000;
  const { path, declined } = choosePath(config.accelerate ? p.accelerator : undefined, { model, shape, config, backend: p.backend ?? tf.getBackend() });
  let completed = false;
  try {
    if (s) await path.restore(s);
    for (let epoch = s ? s.epoch + 1 : 1; epoch <= epochs && step < totalSteps; epoch++) {
      const drawn = condition && trainingSet.freshLabeled ? trainingSet.freshLabeled(count, shuffleRng) : undefined;
      const source = drawn ? drawn.data : trainingSet.fresh ? trainingSet.fresh(count, shuffleRng) : trainingSet.data;
      const labels = drawn ? drawn.labels : trainingSet.labels;
      const order = trainingSet.fresh ? null : shuffleRng.permutation(count);
      const firstStep = step + 1;
      let batches = 0;
      for (let bi = 0; bi < per && step < totalSteps; bi++) {
        const lo = bi * config.batchSize;
        const hi = Math.min(count, lo + config.batchSize);
        const rows = order ? order.subarray(lo, hi) : Uint32Array.from({ length: hi - lo }, (_, i) => lo + i);
        // The labels come first (their own generator, so the order changes no draw): minibatch-OT pairs within each label.
        const batchLabels = condition ? dropLabels(labels as Int32Array, rows, condition.dropout, condition.nullIndex, condition.rng) : undefined;
        const batch =
          config.objective === 'flow'
            ? makeFlowTrainingBatch(source, rows, rowSize, schedule.numTrainTimesteps, noiseRng, {
                timeSampling: config.flowTimeSampling,
                coupling: config.flowCoupling,
                labels: batchLabels,
              })
            : makeTrainingBatch(source, rows, rowSize, schedule, config.predictionType, noiseRng, weighting);
        if (batchLabels) batch.labels = batchLabels;
        path.step(batch, learningRateAt(config, step, totalSteps));
        if (config.emaDecay !== undefined) path.emaUpdate(emaDecayAt(config, config.emaDecay, step + 1));
        step++;
        batches++;
        if (step === config.guideSnapshotStep && p.onGuideSnapshot) {
          const onGuideSnapshot = p.onGuideSnapshot;
          await path.withSamplingWeights(() => onGuideSnapshot(step));
        }
        p.onProgress?.({ step, totalSteps, epoch, epochs, elapsedSeconds: elapsedSeconds() });
      }
      const meanLoss = (await path.takeLossSum()) / batches;
      if (!Number.isFinite(meanLoss)) throw divergence(epoch, firstStep, step, lastFinite, config.learningRate);
      lastFinite = meanLoss;
      history.push({ epoch, step, loss: meanLoss });
      const logged = epoch % config.logEvery === 0 || epoch === epochs;
      const learningRate = learningRateAt(config, Math.max(0, step - 1), totalSteps);
      await p.onEpochEnd?.({ epoch, epochs, step, totalSteps, meanLoss, logged, elapsedSeconds: elapsedSeconds(), learningRate });
      const onCheckpoint = p.onCheckpoint;
      if (onCheckpoint && config.checkpointEvery !== undefined && epoch % config.checkpointEvery === 0 && step < totalSteps) {
        const rngState = { shuffle: shuffleRng.getState(), noise: noiseRng.getState(), ...(condition ? { condition: condition.rng.getState() } : {}) };
        const state: TrainState = { epoch, step, rng: rngState, lastFiniteLoss: lastFinite, lossHistory: history.slice(), ...(await path.snapshot()) };
        await path.withSamplingWeights(() => onCheckpoint(state));
      }
    }
    completed = true;
  } finally {
    path.finish(completed);
    path.dispose();
  }
  const seconds = elapsedSeconds();
  return {
    steps: step,
    epochs,
    seconds,
    stepsPerSecond: (step - resumedFromStep) / seconds,
    finalLoss: lastFinite === null ? Number.NaN : lastFinite,
    lossHistory: history,
    path: path.path,
    acceleratorDeclined: declined,
    ...(path.notes ? { pathNotes: path.notes } : {}),
    resumedFromStep,
  };
}
