/**
 * Core's {@link TrainingPath} on a fused trainer: the loop hands it CPU-prepared batches, and the
 * trainer keeps the weights, Adam's state and the EMA shadow in kernel memory until the model needs
 * them. Checkpoints are written in tfjs Adam's layout, so either path resumes the other's.
 */
import { assignNamedArrays, type TrainBatch, type TrainConfig, type TrainingPath, type TrainingPathState, toNamedArray } from '@diffusionlab/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { FusedAdamTrainer, FusedOptimizerState } from './fused-adam.js';
import { FusedUnetTrainer } from './unet-train.js';

/**
 * The Adam step count, moments and EMA of a saved state in the fused trainer's form. The optimiser
 * slots are tfjs's `getWeights()` layout — the iteration count, then m and v per variable, in
 * `model.variables` order — whichever path wrote them.
 */
export function fusedStateOf(s: TrainingPathState, n: number): FusedOptimizerState {
  if (s.optimizer.length !== 1 + 2 * n) throw new Error(`resume state has ${s.optimizer.length} optimiser slots; Adam over ${n} variables has ${1 + 2 * n}`);
  return {
    step: s.optimizer[0].data[0],
    m: s.optimizer.slice(1, 1 + n).map((a) => a.data),
    v: s.optimizer.slice(1 + n).map((a) => a.data),
    ema: s.ema?.map((a) => a.data),
  };
}

/** A {@link TrainingPath} backed by one {@link FusedAdamTrainer}; the model's variables are only written on demand. */
export class FusedTrainingPath implements TrainingPath {
  private readonly ema: boolean;
  /** The trainer's notes (e.g. threads asked for where there are none), for the run summary. */
  readonly notes?: string;

  /** `path` is what the run summary records (`fused:<accelerator name>`). */
  constructor(
    readonly path: string,
    private readonly trainer: FusedAdamTrainer,
    private readonly vars: readonly tf.Variable[],
    private readonly config: TrainConfig,
  ) {
    this.ema = config.emaDecay !== undefined;
    this.notes =
      trainer.notes ??
      (config.threads !== undefined && config.threads !== 1 && !(trainer instanceof FusedUnetTrainer)
        ? `training.threads ${config.threads} applies to the fused U-Net only; this path trains on one thread`
        : undefined);
  }

  step(batch: TrainBatch, learningRate: number): void {
    this.trainer.step(batch, learningRate);
  }

  emaUpdate(decay: number): void {
    this.trainer.emaStep(decay);
  }

  async takeLossSum(): Promise<number> {
    return this.trainer.takeLossSum();
  }

  async snapshot(): Promise<TrainingPathState> {
    const vars = this.vars;
    this.trainer.syncToModel('raw');
    const st = this.trainer.exportState(vars);
    const named = (prefix: string, suffix: string, arrays: Float32Array[]) =>
      arrays.map((data, i) => ({ name: `${prefix}${vars[i].name}${suffix}`, shape: vars[i].shape.slice(), data }));
    return {
      weights: vars.map((v) => toNamedArray(v.name, v)),
      optimizer: [{ name: 'iter', shape: [], data: Float32Array.of(st.step) }, ...named('', '/m', st.m), ...named('', '/v', st.v)],
      ema: st.ema ? named('ema_', '', st.ema) : undefined,
      // What tfjs's Adam would hold after st.step steps, for a resume on the tfjs path.
      adamBetaPowers: [Math.fround(this.config.beta1 ** st.step), Math.fround(this.config.beta2 ** st.step)],
    };
  }

  async restore(state: TrainingPathState): Promise<void> {
    assignNamedArrays(this.vars, state.weights);
    this.trainer.reloadWeights();
    this.trainer.importState(this.vars, fusedStateOf(state, this.vars.length));
  }

  async withSamplingWeights(fn: () => void | Promise<void>): Promise<void> {
    // The trainer keeps its own weights; the model's variables are only a copy to save.
    this.trainer.syncToModel(this.ema ? 'ema' : 'raw');
    await fn();
  }

  finish(completed: boolean): void {
    // On success the model gets the EMA weights (as on the tfjs path), on failure the raw ones.
    this.trainer.syncToModel(this.ema && completed ? 'ema' : 'raw');
  }

  dispose(): void {
    this.trainer.dispose();
  }
}
