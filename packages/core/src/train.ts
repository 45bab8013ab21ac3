/**
 * The training loop: DDPM's simple objective (Ho et al. 2020, Algorithm 1, eq. 14) with the target
 * set by the prediction type, plus what serious runs need: AdamW, warm-up and cosine learning
 * rates, gradient clipping, Min-SNR loss weighting, an EMA of the weights, periodic checkpoints that
 * hold the whole training state, and exact resumption. Data, timesteps and noise come from the
 * seeded {@link Rng} on the CPU, so a run is reproducible across backends; each step is one `tf.tidy`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { TrainingDivergedError } from './errors.js';
import { registerTfjsGradients } from './gradients.js';
import { type LossWeighting, minSnrWeight } from './loss-weighting.js';
import { learningRateAt } from './lr.js';
import { type PredictionType, trainingTarget } from './prediction.js';
import { Rng } from './rng.js';
import type { NoiseSchedule } from './schedule.js';
import type { DenoiserModel, EpochEndEvent, FusedOptimizerState, FusedTrainer, TrainAccelerator, TrainingSet, TrainProgressEvent } from './spec.js';

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
  /** `constant` (default) or `cosine` decay after warm-up. */
  lrSchedule?: 'constant' | 'cosine';
  warmupSteps?: number;
  minLearningRate?: number;
  /** EMA decay of the weights (e.g. 0.999); sampling uses the EMA weights. Off when undefined. */
  emaDecay?: number;
  /** Ramp the EMA decay as min(decay, (1+n)/(10+n)) so early averages are not dominated by the init. */
  emaWarmup?: boolean;
  lossWeighting?: LossWeighting;
  /** γ of Min-SNR-γ (Hang et al. 2023 recommend 5). */
  minSnrGamma?: number;
  predictionType: PredictionType;
  /** Log (print and record) the mean epoch loss every this many epochs. */
  logEvery: number;
  /** Hand a full training state to `onCheckpoint` every this many epochs. */
  checkpointEvery?: number;
}

/** A tensor's values as plain data, for checkpoints. */
export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Everything needed to continue a run on the exact same trajectory. */
export interface TrainState {
  /** Epochs completed. */
  epoch: number;
  step: number;
  rng: { shuffle: number[]; noise: number[] };
  lastFiniteLoss: number | null;
  lossHistory: { epoch: number; step: number; loss: number }[];
  /** The raw (non-EMA) model weights, in `model.variables` order. */
  weights: NamedArray[];
  /** Optimiser slots (tfjs `optimizer.getWeights()` order). */
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
  /**
   * Receives the full training state every `config.checkpointEvery` epochs, with the model's
   * variables holding the weights to sample from (EMA when enabled) for the duration of the call.
   */
  onCheckpoint?: (state: TrainState) => void | Promise<void>;
  /** Continue from a state an earlier `onCheckpoint` produced. */
  resumeFrom?: TrainState;
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
  const epochs = config.epochs ?? 1;
  return { steps: epochs * per, epochs };
}

/** One CPU-prepared batch: inputs, target and (for weighted losses) per-row weights. */
export interface PreparedBatch {
  xt: Float32Array;
  t: Float32Array;
  target: Float32Array;
  weight?: Float32Array;
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
  weighting: { kind: LossWeighting; gamma: number } = { kind: 'none', gamma: 5 },
): PreparedBatch {
  const b = rows.length;
  const T = schedule.numTrainTimesteps;
  const xt = new Float32Array(b * rowSize);
  const target = new Float32Array(b * rowSize);
  const t = new Float32Array(b);
  const weight = weighting.kind === 'none' ? undefined : new Float32Array(b);
  for (let i = 0; i < b; i++) {
    const ti = rng.int(T);
    t[i] = ti;
    const ab = schedule.alphasCumprod[ti];
    const sa = Math.sqrt(ab);
    const sb = Math.sqrt(1 - ab);
    if (weight) weight[i] = minSnrWeight(ab, weighting.gamma, predictionType);
    const base = rows[i] * rowSize;
    for (let j = 0; j < rowSize; j++) {
      const x = x0[base + j];
      const e = rng.normal();
      xt[i * rowSize + j] = sa * x + sb * e;
      target[i * rowSize + j] = trainingTarget(predictionType, x, e, sa, sb);
    }
  }
  return { xt, t, target, weight };
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

const toNamedArray = (name: string, t: tf.Tensor): NamedArray => ({ name, shape: t.shape.slice(), data: t.dataSync().slice() as Float32Array });

/**
 * EMA decay for update n (1-based): min(decay, (1 + n)/(10 + n)) with warm-up (Tarvainen & Valpola
 * 2017 style ramp), so early averages are not dominated by the initial weights.
 */
function emaDecayAt(c: TrainConfig, n: number): number {
  const d = c.emaDecay as number;
  return c.emaWarmup === false ? d : Math.min(d, (1 + n) / (10 + n));
}

/**
 * The Adam step count, moments and EMA of a saved state in the fused trainer's form. The optimiser
 * slots are tfjs's `getWeights()` layout — the iteration count, then m and v per variable, in
 * `model.variables` order — whichever path wrote them.
 */
function fusedStateOf(s: TrainState, n: number): FusedOptimizerState {
  if (s.optimizer.length !== 1 + 2 * n) throw new Error(`resume state has ${s.optimizer.length} optimiser slots; Adam over ${n} variables has ${1 + 2 * n}`);
  return {
    step: s.optimizer[0].data[0],
    m: s.optimizer.slice(1, 1 + n).map((a) => a.data),
    v: s.optimizer.slice(1 + n).map((a) => a.data),
    ema: s.ema?.map((a) => a.data),
  };
}

/** Adam's β-power accumulators: tfjs keeps them as private fields, not among `getWeights()`. */
function adamAccumulators(optimizer: tf.Optimizer): { accBeta1: tf.Variable; accBeta2: tf.Variable } {
  const o = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  if (!o.accBeta1 || !o.accBeta2) throw new Error('tfjs AdamOptimizer no longer has accBeta1/accBeta2; resume cannot restore its state exactly');
  return { accBeta1: o.accBeta1, accBeta2: o.accBeta2 };
}

/** Why the fused path cannot honour this config, or null when it can. */
function fusedIncompatibility(c: TrainConfig): string | null {
  if ((c.lossWeighting ?? 'none') !== 'none') return 'loss weighting runs on the tfjs path';
  return null;
}

/** Trains `model` in place and returns what happened; throws {@link TrainingDivergedError} on NaN/Inf loss. */
export async function train(p: TrainParams): Promise<TrainResult> {
  const { model, trainingSet, shape, schedule, config, rng } = p;
  await registerTfjsGradients();
  const rowSize = shape.reduce((a, b) => a * b, 1);
  const count = trainingSet.count;
  const { steps: totalSteps, epochs } = trainingLength(count, config);
  const per = batchesPerEpoch(count, config.batchSize);
  const optimizer = tf.train.adam(config.learningRate, config.beta1 ?? 0.9, config.beta2 ?? 0.999, config.epsilon ?? 1e-8);
  const vars = model.variables as tf.Variable[];
  const decay = config.optimizer === 'adamw' ? (config.weightDecay ?? 0.01) : 0;
  const weighting = { kind: config.lossWeighting ?? 'none', gamma: config.minSnrGamma ?? 5 } as const;
  const lossAcc = tf.tidy(() => tf.variable(tf.scalar(0), false, `lossAcc_${Date.now()}_${Math.random()}`));
  const ema = config.emaDecay !== undefined ? vars.map((v) => tf.tidy(() => tf.variable(v.clone(), false, `ema_${v.name}_${Math.random()}`))) : null;
  let history: TrainResult['lossHistory'] = [];
  const start = performance.now();
  let step = 0;
  let startEpoch = 1;
  let lastFinite: number | null = null;
  let finalLoss = Number.NaN;
  const shuffleRng = rng.fork('shuffle');
  const noiseRng = rng.fork('noise');

  if (p.resumeFrom) {
    const s = p.resumeFrom;
    if (s.weights.length !== vars.length) throw new Error(`resume state has ${s.weights.length} weight tensors, the model has ${vars.length}`);
    tf.tidy(() => {
      vars.forEach((v, i) => v.assign(tf.tensor(s.weights[i].data, s.weights[i].shape)));
      if (ema && s.ema) ema.forEach((v, i) => v.assign(tf.tensor((s.ema as NamedArray[])[i].data, (s.ema as NamedArray[])[i].shape)));
    });
    if (s.optimizer.length > 0) {
      const slots = s.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape) }));
      await optimizer.setWeights(slots);
      for (const w of slots) w.tensor.dispose();
    }
    if (s.adamBetaPowers) {
      const acc = adamAccumulators(optimizer);
      const [b1, b2] = s.adamBetaPowers;
      tf.tidy(() => {
        acc.accBeta1.assign(tf.scalar(b1));
        acc.accBeta2.assign(tf.scalar(b2));
      });
    }
    shuffleRng.setState(s.rng.shuffle);
    noiseRng.setState(s.rng.noise);
    step = s.step;
    startEpoch = s.epoch + 1;
    lastFinite = s.lastFiniteLoss;
    finalLoss = lastFinite ?? Number.NaN;
    history = s.lossHistory.slice();
  }
  const resumedFromStep = step;

  let fused: FusedTrainer | null = null;
  let declined: string | undefined;
  if (p.accelerator) {
    const why = fusedIncompatibility(config);
    const made =
      why ??
      p.accelerator.create(model, {
        optimizer: config.optimizer ?? 'adam',
        learningRate: config.learningRate,
        beta1: config.beta1 ?? 0.9,
        beta2: config.beta2 ?? 0.999,
        epsilon: config.epsilon ?? 1e-8,
        weightDecay: decay,
        gradClipNorm: config.gradClipNorm,
        backend: p.backend ?? tf.getBackend(),
      });
    const checkpointed = config.checkpointEvery !== undefined || p.resumeFrom !== undefined;
    if (typeof made === 'string') declined = made;
    else if (ema && typeof made.emaStep !== 'function') {
      made.dispose();
      declined = `the ${p.accelerator.name} accelerator keeps no EMA of the weights`;
    } else if (checkpointed && (typeof made.exportState !== 'function' || typeof made.importState !== 'function')) {
      made.dispose();
      declined = `the ${p.accelerator.name} accelerator cannot save or restore its optimiser state for checkpoints`;
    } else fused = made;
    if (fused && p.resumeFrom) fused.importState?.(vars, fusedStateOf(p.resumeFrom, vars.length));
  }

  const swapEma = () => {
    // Exchanges model and EMA values in place (used around checkpoints and at the end).
    if (!ema) return;
    tf.tidy(() => {
      vars.forEach((v, i) => {
        const tmp = v.clone();
        v.assign(ema[i]);
        ema[i].assign(tmp);
      });
    });
  };

  /**
   * The training state at the end of `epoch`: the loop's position, rng and history and the raw
   * weights, plus the optimiser — tfjs's slots, or the fused trainer's state written in the same
   * layout (so either path can resume the other's checkpoint).
   */
  const snapshot = async (epoch: number): Promise<TrainState> => {
    fused?.syncToModel('raw');
    const loop = {
      epoch,
      step,
      rng: { shuffle: shuffleRng.getState(), noise: noiseRng.getState() },
      lastFiniteLoss: lastFinite,
      lossHistory: history.slice(),
      weights: vars.map((v) => toNamedArray(v.name, v)),
    };
    if (fused) {
      const st = (fused.exportState as NonNullable<FusedTrainer['exportState']>)(vars);
      const named = (prefix: string, suffix: string, arrays: Float32Array[]) =>
        arrays.map((data, i) => ({ name: `${prefix}${vars[i].name}${suffix}`, shape: vars[i].shape.slice(), data }));
      return {
        ...loop,
        optimizer: [{ name: 'iter', shape: [], data: Float32Array.of(st.step) }, ...named('', '/m', st.m), ...named('', '/v', st.v)],
        ema: st.ema ? named('ema_', '', st.ema) : undefined,
        // What tfjs's Adam would hold after st.step steps, for a resume on the tfjs path.
        adamBetaPowers: [Math.fround((config.beta1 ?? 0.9) ** st.step), Math.fround((config.beta2 ?? 0.999) ** st.step)],
      };
    }
    const acc = adamAccumulators(optimizer);
    return {
      ...loop,
      optimizer: (await optimizer.getWeights()).map((w) => {
        const out = toNamedArray(w.name, w.tensor);
        // getWeights returns the slot variables themselves plus a fresh iteration-count scalar.
        if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
        return out;
      }),
      ema: ema ? ema.map((v) => toNamedArray(v.name, v)) : undefined,
      adamBetaPowers: [acc.accBeta1.dataSync()[0], acc.accBeta2.dataSync()[0]],
    };
  };

  let completed = false;
  try {
    for (let epoch = startEpoch; epoch <= epochs && step < totalSteps; epoch++) {
      const source = trainingSet.fresh ? trainingSet.fresh(count, shuffleRng) : trainingSet.data;
      const order = trainingSet.fresh ? null : shuffleRng.permutation(count);
      const firstStep = step + 1;
      let batches = 0;
      for (let bi = 0; bi < per && step < totalSteps; bi++) {
        const lo = bi * config.batchSize;
        const hi = Math.min(count, lo + config.batchSize);
        const rows = order ? order.subarray(lo, hi) : Uint32Array.from({ length: hi - lo }, (_, i) => lo + i);
        const batch = makeTrainingBatch(source, rows, rowSize, schedule, config.predictionType, noiseRng, weighting);
        const b = rows.length;
        if (fused) {
          fused.step({ xt: batch.xt, t: batch.t, target: batch.target, size: b }, learningRateAt(config, step, totalSteps));
          if (ema) fused.emaStep?.(emaDecayAt(config, step + 1));
        } else {
          const lr = learningRateAt(config, step, totalSteps);
          (optimizer as unknown as { learningRate: number }).learningRate = lr;
          tf.tidy(() => {
            const xt = tf.tensor(batch.xt, [b, ...shape]);
            const t = tf.tensor1d(batch.t);
            const target = tf.tensor(batch.target, [b, ...shape]);
            const w = batch.weight ? tf.tensor1d(batch.weight) : null;
            const lossFn = () =>
              tf.tidy(() => {
                const sq = tf.squaredDifference(model.predict(xt, t), target);
                if (!w) return tf.mean(sq) as tf.Scalar;
                const perRow = tf.mean(tf.reshape(sq, [b, -1]), 1);
                return tf.mean(tf.mul(perRow, w)) as tf.Scalar;
              });
            if (decay === 0 && config.gradClipNorm === undefined) {
              const cost = optimizer.minimize(lossFn, true, vars) as tf.Scalar;
              lossAcc.assign(tf.add(lossAcc, cost));
            } else {
              const { value, grads } = optimizer.computeGradients(lossFn, vars);
              const g = config.gradClipNorm !== undefined ? clipByGlobalNorm(grads, config.gradClipNorm) : grads;
              if (decay > 0) for (const v of vars) v.assign(tf.mul(v, 1 - lr * decay));
              optimizer.applyGradients(g as unknown as Parameters<typeof optimizer.applyGradients>[0]);
              lossAcc.assign(tf.add(lossAcc, value));
            }
            if (ema) {
              const d = emaDecayAt(config, step + 1);
              vars.forEach((v, i) => ema[i].assign(tf.add(tf.mul(ema[i], d), tf.mul(v, 1 - d))));
            }
          });
        }
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
      if (!Number.isFinite(meanLoss)) {
        throw new TrainingDivergedError(
          step,
          lastFinite,
          `The loss became non-finite during epoch ${epoch} (steps ${firstStep}–${step}). Lower training.learningRate ` +
            `(now ${config.learningRate}), set training.gradClipNorm, or use a schedule whose betas stay inside (0, 1); ` +
            'the last good checkpoint is kept.',
        );
      }
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
        learningRate: learningRateAt(config, Math.max(0, step - 1), totalSteps),
      });
      if (p.onCheckpoint && config.checkpointEvery !== undefined && epoch % config.checkpointEvery === 0 && step < totalSteps) {
        const state = await snapshot(epoch);
        if (fused) {
          // The fused trainer keeps its own weights; the model's variables are only a copy to save.
          if (ema) fused.syncToModel('ema');
          await p.onCheckpoint(state);
        } else {
          swapEma();
          try {
            await p.onCheckpoint(state);
          } finally {
            swapEma();
          }
        }
      }
    }
    completed = true;
  } finally {
    if (fused) {
      // The fused trainer holds raw and EMA weights; the tfjs-side EMA variables were never updated.
      // On success the model gets the EMA weights (as on the tfjs path), on failure the raw ones.
      fused.syncToModel(ema && completed ? 'ema' : 'raw');
      fused.dispose();
    }
    lossAcc.dispose();
    optimizer.dispose();
    if (ema) {
      // Sampling and the final checkpoint use the EMA weights.
      if (completed && !fused) swapEma();
      for (const v of ema) v.dispose();
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const ran = step - resumedFromStep;
  return {
    steps: step,
    epochs,
    seconds,
    stepsPerSecond: ran / seconds,
    finalLoss,
    lossHistory: history,
    path: fused ? `fused:${p.accelerator?.name}` : 'tfjs',
    acceleratorDeclined: declined,
    resumedFromStep,
  };
}
