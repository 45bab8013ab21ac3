/**
 * The reference training path: DDPM's simple objective (Ho et al. 2020, Algorithm 1, eq. 14) with
 * tfjs's Adam, decoupled weight decay (AdamW, Loshchilov & Hutter 2019), global-norm clipping,
 * per-row loss weights and an EMA of the weights, each step one `tf.tidy`. Fast paths are held to it
 * by parity tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from './training-config.js';
import { assignNamedArrays, type NamedArray, type TrainBatch, type TrainingPath, type TrainingPathContext, type TrainingPathState, toNamedArray } from './training-path.js';

/** Scales gradients so their global L2 norm is at most `maxNorm` (as torch.nn.utils.clip_grad_norm_). */
function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  const names = Object.keys(grads);
  const sq = tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))));
  const scale = tf.minimum(1, tf.div(maxNorm, tf.add(tf.sqrt(sq), 1e-6)));
  const out: tf.NamedTensorMap = {};
  for (const n of names) out[n] = tf.mul(grads[n], scale);
  return out;
}

/** Adam's β-power accumulators: tfjs keeps them as private fields, not among `getWeights()`. */
function adamAccumulators(optimizer: tf.Optimizer): { accBeta1: tf.Variable; accBeta2: tf.Variable } {
  const o = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  if (!o.accBeta1 || !o.accBeta2) throw new Error('tfjs AdamOptimizer no longer has accBeta1/accBeta2; resume cannot restore its state exactly');
  return { accBeta1: o.accBeta1, accBeta2: o.accBeta2 };
}

/** The {@link TrainingPath} on tfjs ops: the model's own variables train in place. */
class TfjsTrainingPath implements TrainingPath {
  readonly path = 'tfjs';
  /** Set when `training.threads` asks for more than the one thread this path runs on. */
  readonly notes?: string;
  private readonly vars: tf.Variable[];
  private readonly optimizer: tf.AdamOptimizer;
  private readonly decay: number;
  private readonly lossAcc: tf.Variable;
  /** EMA shadow variables, in `vars` order; null when the config keeps no EMA. */
  private readonly ema: tf.Variable[] | null;

  constructor(
    private readonly ctx: TrainingPathContext,
    private readonly config: TrainConfig = ctx.config,
  ) {
    this.vars = ctx.model.variables as tf.Variable[];
    if (config.threads !== undefined && config.threads !== 1)
      this.notes = `training.threads ${config.threads} applies to the fused U-Net only; the tfjs path runs on tfjs's own threads`;
    this.optimizer = tf.train.adam(config.learningRate, config.beta1, config.beta2, config.epsilon);
    this.decay = config.optimizer === 'adamw' ? config.weightDecay : 0;
    this.lossAcc = tf.tidy(() => tf.variable(tf.scalar(0), false, `lossAcc_${Date.now()}_${Math.random()}`));
    this.ema = config.emaDecay !== undefined ? this.vars.map((v) => tf.tidy(() => tf.variable(v.clone(), false, `ema_${v.name}_${Math.random()}`))) : null;
  }

  step(batch: TrainBatch, learningRate: number): void {
    const { model, shape } = this.ctx;
    const { optimizer, vars, decay, lossAcc } = this;
    const clip = this.config.gradClipNorm;
    const b = batch.size;
    (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
    tf.tidy(() => {
      const xt = tf.tensor(batch.xt, [b, ...shape]);
      const t = tf.tensor1d(batch.t);
      const target = tf.tensor(batch.target, [b, ...shape]);
      const w = batch.weight ? tf.tensor1d(batch.weight) : null;
      const labels = batch.labels ? tf.tensor1d(batch.labels, 'int32') : undefined;
      const lossFn = () =>
        tf.tidy(() => {
          const sq = tf.squaredDifference(model.predict(xt, t, labels), target);
          if (!w) return tf.mean(sq) as tf.Scalar;
          const perRow = tf.mean(tf.reshape(sq, [b, -1]), 1);
          return tf.mean(tf.mul(perRow, w)) as tf.Scalar;
        });
      if (decay === 0 && clip === undefined) {
        const cost = optimizer.minimize(lossFn, true, vars) as tf.Scalar;
        lossAcc.assign(tf.add(lossAcc, cost));
      } else {
        const { value, grads } = optimizer.computeGradients(lossFn, vars);
        const g = clip !== undefined ? clipByGlobalNorm(grads, clip) : grads;
        if (decay > 0) for (const v of vars) v.assign(tf.mul(v, 1 - learningRate * decay));
        optimizer.applyGradients(g as unknown as Parameters<typeof optimizer.applyGradients>[0]);
        lossAcc.assign(tf.add(lossAcc, value));
      }
    });
  }

  emaUpdate(decay: number): void {
    const ema = this.ema;
    if (!ema) throw new Error('emaUpdate on a tfjs training path built without training.emaDecay');
    tf.tidy(() => this.vars.forEach((v, i) => ema[i].assign(tf.add(tf.mul(ema[i], decay), tf.mul(v, 1 - decay)))));
  }

  async takeLossSum(): Promise<number> {
    const sum = (await this.lossAcc.data())[0];
    tf.tidy(() => this.lossAcc.assign(tf.zerosLike(this.lossAcc)));
    return sum;
  }

  async snapshot(): Promise<TrainingPathState> {
    const acc = adamAccumulators(this.optimizer);
    return {
      weights: this.vars.map((v) => toNamedArray(v.name, v)),
      optimizer: (await this.optimizer.getWeights()).map((w) => {
        const out = toNamedArray(w.name, w.tensor);
        // getWeights returns the slot variables themselves plus a fresh iteration-count scalar.
        if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
        return out;
      }),
      ema: this.ema ? this.ema.map((v) => toNamedArray(v.name, v)) : undefined,
      adamBetaPowers: [acc.accBeta1.dataSync()[0], acc.accBeta2.dataSync()[0]],
    };
  }

  async restore(s: TrainingPathState): Promise<void> {
    assignNamedArrays(this.vars, s.weights);
    const ema = this.ema;
    if (ema && s.ema) tf.tidy(() => ema.forEach((v, i) => v.assign(tf.tensor((s.ema as NamedArray[])[i].data, (s.ema as NamedArray[])[i].shape))));
    if (s.optimizer.length > 0) {
      const slots = s.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape) }));
      await this.optimizer.setWeights(slots);
      for (const w of slots) w.tensor.dispose();
    }
    if (s.adamBetaPowers) {
      const acc = adamAccumulators(this.optimizer);
      const [b1, b2] = s.adamBetaPowers;
      tf.tidy(() => {
        acc.accBeta1.assign(tf.scalar(b1));
        acc.accBeta2.assign(tf.scalar(b2));
      });
    }
  }

  async withSamplingWeights(fn: () => void | Promise<void>): Promise<void> {
    this.swapEma();
    try {
      await fn();
    } finally {
      this.swapEma();
    }
  }

  finish(completed: boolean): void {
    // Sampling and the final checkpoint use the EMA weights.
    if (completed) this.swapEma();
  }

  dispose(): void {
    this.lossAcc.dispose();
    this.optimizer.dispose();
    if (this.ema) for (const v of this.ema) v.dispose();
  }

  /** Exchanges model and EMA values in place (around checkpoints and at the end); a no-op without EMA. */
  private swapEma(): void {
    const ema = this.ema;
    if (!ema) return;
    tf.tidy(() => {
      this.vars.forEach((v, i) => {
        const tmp = v.clone();
        v.assign(ema[i]);
        ema[i].assign(tmp);
      });
    });
  }
}

/** Core's reference {@link TrainingPath}: the one every run can take, and the one fast paths are checked against. */
export function createTfjsTrainingPath(ctx: TrainingPathContext): TrainingPath {
  return new TfjsTrainingPath(ctx);
}
