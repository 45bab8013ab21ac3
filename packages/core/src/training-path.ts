/**
 * The training-step interface: what {@link train}'s loop asks of whatever runs the optimiser steps.
 * Core's tfjs implementation (`tfjs-training-path.ts`) is the reference; a fast path (the fused
 * WebAssembly trainer in `@diffusionlab/kernels`) implements the same interface and is offered through
 * a {@link TrainAccelerator}, so a new fused capability never edits the loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DenoiserModel } from './spec.js';
import type { TrainConfig } from './training-config.js';

/** A tensor's values as plain data, for checkpoints. */
export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** One CPU-prepared training batch, exactly what every path trains on (the same seeded draws). */
export interface TrainBatch {
  xt: Float32Array;
  t: Float32Array;
  target: Float32Array;
  /** Per-row loss weights (Min-SNR); absent for the plain loss. */
  weight?: Float32Array;
  /** Rows in this batch (the last batch of an epoch may be short). */
  size: number;
  /**
   * Class of each row for a conditional model (null class where training dropped the label);
   * absent for unconditional models. A path that cannot feed labels to the model must decline
   * conditional models rather than train them without.
   */
  labels?: Int32Array;
}

/**
 * A path's share of a resumable checkpoint, in one layout whichever path wrote it, so either path
 * resumes the other's checkpoint.
 */
export interface TrainingPathState {
  /** The raw (non-EMA) model weights, in `model.variables` order. */
  weights: NamedArray[];
  /** Optimiser slots in tfjs Adam's `getWeights()` layout: the iteration count, then m and v per variable. */
  optimizer: NamedArray[];
  /** EMA shadow weights, in `model.variables` order, when EMA is on. */
  ema?: NamedArray[];
  /**
   * Adam's running β₁ᵗ and β₂ᵗ as the optimiser holds them. tfjs's `setWeights` recomputes them as
   * `pow(β, t + 1)`, which differs from the accumulated product in the last float32 bit and makes a
   * resumed run drift from the uninterrupted one; restoring them keeps the trajectory exact.
   */
  adamBetaPowers?: [number, number];
}

/** What a training path is built for: one model, one parsed config. */
export interface TrainingPathContext {
  model: DenoiserModel;
  /** Shape of one sample. */
  shape: readonly number[];
  config: TrainConfig;
  /** Active tfjs backend, for paths that only match some backends. */
  backend: string;
}

/**
 * Runs a training run's optimiser steps for one model. The loop owns the schedule (batches,
 * learning rate, EMA decay, epochs, checkpoints); a path owns the weights, optimiser state, EMA
 * shadow and loss sum while it trains, and hands the weights back to the model's variables.
 */
export interface TrainingPath {
  /** `tfjs` for the reference path, `fused:<name>` for a fast path: what the run summary records. */
  readonly path: string;
  /**
   * What the run summary should say about how the path runs, when it differs from what the config
   * asked for (e.g. `training.threads` > 1 on a runtime without worker threads); why: a setting
   * that cannot apply is reported, not silently dropped.
   */
  readonly notes?: string;
  /** One optimiser step (forward, backward, update) on a batch at this step's learning rate; adds the batch loss to the running sum. */
  step(batch: TrainBatch, learningRate: number): void;
  /** ema ← decay·ema + (1 − decay)·θ after a step, from the weights the path started with; called only when the config keeps an EMA. */
  emaUpdate(decay: number): void;
  /** Sum of the batch losses since the last call, then resets it (read once per epoch, so a GPU path syncs once). */
  takeLossSum(): Promise<number>;
  /** The raw weights, optimiser state and EMA shadow as they are now, for a checkpoint. */
  snapshot(): Promise<TrainingPathState>;
  /** Continues from a snapshot (either path's): weights, optimiser state and EMA shadow. */
  restore(state: TrainingPathState): Promise<void>;
  /** Runs `fn` while the model's variables hold the weights to sample from (the EMA ones when kept). */
  withSamplingWeights(fn: () => void | Promise<void>): Promise<void>;
  /** Leaves the weights in the model's variables: the EMA ones after a completed run (when kept), else the raw ones. */
  finish(completed: boolean): void;
  /** Frees what the path holds (tensors, kernel memory); the model's variables stay. */
  dispose(): void;
}

/** A fast path for training, offered to {@link train}: builds a {@link TrainingPath}, or declines with the reason. */
export interface TrainAccelerator {
  readonly name: string;
  /** A path for this model and config, or why it cannot run them (the loop then trains on tfjs). */
  create(ctx: TrainingPathContext): TrainingPath | string;
}

/** A variable's (or tensor's) values as a {@link NamedArray}; the copy is the caller's. */
export function toNamedArray(name: string, t: tf.Tensor): NamedArray {
  return { name, shape: t.shape.slice(), data: t.dataSync().slice() as Float32Array };
}

/** Assigns saved arrays to variables in order (the raw weights of a resume). */
export function assignNamedArrays(vars: readonly tf.Variable[], arrays: readonly NamedArray[]): void {
  if (arrays.length !== vars.length) throw new Error(`resume state has ${arrays.length} weight tensors, the model has ${vars.length}`);
  tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(arrays[i].data, arrays[i].shape))));
}
