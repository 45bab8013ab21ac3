/**
 * What `--resume` will do with a run directory, decided from its checkpoint before any work: go on
 * training from a periodic checkpoint, or — when training had finished and the run died while
 * sampling or reporting — load the final weights and only sample and evaluate again. A training
 * state is checked against the config (step and epoch inside the run, tensor shapes of the model)
 * so a damaged or foreign checkpoint is refused instead of silently "resuming" with no training.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Denoiser, type DenoiserBuildContext, type DenoiserModel, type ModelArtifacts, type TrainState } from '@diffusionlab/core';
import { CHECKPOINT_META, loadCheckpoint, loadTrainState } from './files.js';

/** How `--resume` continues a run. */
export type ResumePlan =
  /** Training goes on from a periodic checkpoint's full training state. */
  | { kind: 'train'; state: TrainState }
  /** Training had finished: its final weights are loaded, and only sampling and evaluation run again. */
  | { kind: 'sample'; artifacts: ModelArtifacts; meta: Record<string, unknown> };

/** The run length a config implies, to check a saved position against. */
export interface RunLength {
  steps: number;
  epochs: number;
  /** Optimiser steps in one epoch. */
  perEpoch: number;
  /** `training.checkpointEvery`, to explain a missing checkpoint. */
  checkpointEvery?: number;
}

function refuse(message: string, hint?: string): ConfigError {
  return new ConfigError({ path: '--resume', message }, { hint: hint ?? 'Start the run again with --force instead of --resume.' });
}

/**
 * Reads `checkpoint/` of run directory `dir` and says how it resumes; refuses with the reason when
 * it cannot (no checkpoint yet, or a state that does not belong to this config).
 */
export function planResume(dir: string, length: RunLength): ResumePlan {
  const ckpt = join(dir, 'checkpoint');
  const state = loadTrainState(ckpt);
  if (state) {
    checkStatePosition(state, length, join(ckpt, 'train-state.json'));
    return { kind: 'train', state };
  }
  if (existsSync(join(ckpt, CHECKPOINT_META))) {
    const { artifacts, meta } = loadCheckpoint(ckpt);
    if (meta.final === true) {
      if (meta.trainingSteps !== length.steps) {
        throw refuse(`the final checkpoint in ${ckpt} was trained for ${JSON.stringify(meta.trainingSteps)} steps; this config trains ${length.steps}`);
      }
      return { kind: 'sample', artifacts, meta };
    }
  }
  const why =
    length.checkpointEvery === undefined
      ? 'training.checkpointEvery is not set, so it wrote none'
      : `the run stopped before it wrote one (training.checkpointEvery = ${length.checkpointEvery})`;
  throw refuse(`${dir} has no resumable checkpoint: ${why}`);
}

/**
 * A periodic checkpoint is written at the end of an epoch before the last step, so its step is
 * exactly epoch × steps-per-epoch and below the run's total; anything else was not written by a run
 * of this config.
 */
export function checkStatePosition(state: TrainState, length: RunLength, file: string): void {
  if (state.step >= length.steps || state.epoch < 1 || state.step !== state.epoch * length.perEpoch) {
    throw refuse(
      `${file} is at step ${state.step}, epoch ${state.epoch}, but this config trains ${length.steps} steps in ${length.epochs} epochs of ${length.perEpoch} steps ` +
        '(a periodic checkpoint sits at the end of an epoch before the last step); it was not written by a run of this config',
    );
  }
}

/** Shapes of a tensor list, for messages. */
const shapes = (list: readonly { shape: readonly number[] }[]) => list.map((t) => `[${t.shape}]`).join(', ');
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Checks a training state against the model it will be loaded into: one weight per variable, each
 * of the variable's shape; Adam's iteration count and two moments per variable; an EMA exactly when
 * the config keeps one. (Names carry tfjs's per-process counters, so shapes and order are compared.)
 */
export function checkStateFitsModel(state: TrainState, variables: readonly { name: string; shape: readonly number[] }[], emaOn: boolean, file: string): void {
  const n = variables.length;
  const fail = (what: string) => refuse(`${file} does not fit this model: ${what}`);
  const expect = variables.map((v) => ({ shape: v.shape.slice() }));
  const sameList = (list: readonly { shape: readonly number[] }[]) => list.length === n && list.every((t, i) => same(t.shape, variables[i].shape));
  if (!sameList(state.weights)) throw fail(`weights have shapes ${shapes(state.weights)}; the model's variables are ${shapes(expect)}`);
  const opt = state.optimizer;
  if (opt.length !== 1 + 2 * n || opt[0].shape.length !== 0 || !sameList(opt.slice(1, 1 + n)) || !sameList(opt.slice(1 + n))) {
    throw fail(`optimizer slots have shapes ${shapes(opt)}; Adam over this model keeps an iteration count and two moments of shapes ${shapes(expect)}`);
  }
  if (emaOn !== (state.ema !== undefined)) throw fail(emaOn ? 'it has no EMA weights but training.emaDecay is set' : 'it has EMA weights but training.emaDecay is not set');
  if (state.ema && !sameList(state.ema)) throw fail(`EMA weights have shapes ${shapes(state.ema)}; the model's variables are ${shapes(expect)}`);
}

/**
 * The model a resumed run continues with: the final weights when training had finished, else a
 * fresh build that the training state is checked against (disposed again when it does not fit).
 */
export async function resumeModel(plan: ResumePlan, denoiser: Denoiser, ctx: DenoiserBuildContext, emaOn: boolean, dir: string): Promise<DenoiserModel> {
  if (plan.kind === 'sample') return denoiser.load(plan.artifacts, ctx);
  const model = await denoiser.build(ctx);
  try {
    checkStateFitsModel(plan.state, model.variables, emaOn, join(dir, 'checkpoint', 'train-state.json'));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
