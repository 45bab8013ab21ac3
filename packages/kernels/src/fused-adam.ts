/**
 * The optimiser half every fused trainer shares: Adam/AdamW over one contiguous parameter block in
 * kernel memory (gradients and moments in the same layout), global-norm clipping, per-step learning
 * rate, the EMA shadow and the loss sum. Subclasses supply the network: its forward and backward
 * (leaving ∂L/∂θ in the gradient block) and how the block maps back to the model's variables.
 */
import type { TrainBatch } from '@diffusionlab/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { KernelInstance } from './wasm.js';

/** The optimiser settings a fused trainer runs with (from core's parsed training config); it declines anything else. */
export interface AcceleratorTrainOptions {
  optimizer: 'adam' | 'adamw';
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay λ (0 for plain Adam). */
  weightDecay: number;
  gradClipNorm?: number;
  /** Active tfjs backend name. */
  backend: string;
  /**
   * `training.threads`: threads one step's rows are split over (the fused U-Net only; 'auto' =
   * min(2, cores); default 1). Other counts give the same training up to float summation order.
   */
  threads?: number | 'auto';
}

/** A fused trainer's optimiser state, per model variable: Adam's step count, moments and EMA shadow. */
export interface FusedOptimizerState {
  /** Adam steps taken (the t of the bias corrections). */
  step: number;
  m: Float32Array[];
  v: Float32Array[];
  /** EMA weights, when the run keeps an EMA. */
  ema?: Float32Array[];
}

/** Byte pointers of the parameter block and its same-layout gradient and Adam-moment blocks. */
export interface AdamBlock {
  readonly inst: KernelInstance;
  readonly paramPtr: number;
  readonly gradPtr: number;
  readonly mPtr: number;
  readonly vPtr: number;
  /** Padded float count (a multiple of 4, so Adam is one SIMD sweep). */
  readonly paramCount: number;
}

/** Returns why the fused optimiser cannot honour `options`, or null when it can. */
export function adamOptionsProblem(options: AcceleratorTrainOptions): string | null {
  if (options.optimizer !== 'adam' && options.optimizer !== 'adamw') return `optimizer '${String(options.optimizer)}' is not adam or adamw`;
  for (const key of ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay'] as const) {
    if (!Number.isFinite(options[key])) return `${key} is not a finite number`;
  }
  if (options.gradClipNorm !== undefined && !(options.gradClipNorm > 0)) return `gradClipNorm ${options.gradClipNorm} is not positive`;
  return null;
}

/**
 * A fused trainer minus the network: one kernel instance's Adam(W), clipping and EMA. Core's loop
 * drives it through {@link FusedTrainingPath}; tests drive it directly.
 */
export abstract class FusedAdamTrainer {
  private t = 0;
  private lossSum = 0;
  private disposed = false;
  /** What the run should be told about how this trainer runs (e.g. threads asked for but not available), or undefined. */
  notes: string | undefined;
  /** EMA shadow of the parameter block (same layout as kernel memory); null until emaStep is used. */
  private shadow: Float32Array | null = null;
  /** The weights at creation (or at the last {@link reloadWeights}), which the EMA starts from (as core's tfjs path clones them). */
  private initial: Float32Array;

  /** `label` names the trainer in error messages. */
  constructor(
    protected readonly block: AdamBlock,
    protected readonly opts: AcceleratorTrainOptions,
    private readonly label: string,
  ) {
    this.initial = this.params().slice();
  }

  /** Forward and backward only, leaving ∂L/∂θ in the gradient block; returns the batch loss. */
  abstract computeGradients(batch: TrainBatch): number;

  /** Writes the parameter block as it is now into the model's tf.Variables. */
  protected abstract writeParams(): void;

  /** Reads the model's tf.Variables into the parameter block. */
  protected abstract readParams(): void;

  /**
   * Re-reads the weights from the model's variables (after a resume assigned them) and starts the EMA
   * from them, as a trainer created at that point would.
   */
  reloadWeights(): void {
    this.checkLive();
    this.readParams();
    this.initial = this.params().slice();
  }

  /** Where each model variable lives in the parameter block: byte pointer and float count. */
  protected abstract segments(): { variable: tf.Variable; ptr: number; length: number }[];

  /** The segment of `v`, or an error naming it (the variable does not belong to this model). */
  private segmentOf(v: tf.Variable): { ptr: number; length: number } {
    const seg = this.segments().find((s) => s.variable === v);
    if (!seg) throw new Error(`${this.label}: variable ${v.name} is not one of this trainer's layers`);
    return seg;
  }

  /** A fresh view of the parameter block (views detach when kernel memory grows). */
  protected params(): Float32Array {
    return this.block.inst.view(this.block.paramPtr, this.block.paramCount);
  }

  /** Adam step count so far (the t of the bias corrections). */
  get iterations(): number {
    return this.t;
  }

  /** Throws once the trainer was disposed. */
  protected checkLive(): void {
    if (this.disposed) throw new Error(`${this.label} used after dispose()`);
  }

  /** One Adam(W) step: forward, backward, optional clipping, update — all inside the kernel instance. */
  step(batch: TrainBatch, learningRate: number = this.opts.learningRate): void {
    this.checkLive();
    if (!(learningRate >= 0) || !Number.isFinite(learningRate)) throw new Error(`${this.label}.step: learning rate ${learningRate} is not a finite non-negative number`);
    const loss = this.computeGradients(batch);
    this.lossSum += loss;
    const o = this.opts;
    const b = this.block;
    let gradScale = 1;
    if (o.gradClipNorm !== undefined) {
      // torch.nn.utils.clip_grad_norm_ / core's clipByGlobalNorm: scale = min(1, c/(‖g‖ + 1e-6))
      const norm = Math.sqrt(b.inst.k.sumSquares(b.gradPtr, b.paramCount));
      gradScale = Math.min(1, o.gradClipNorm / (norm + 1e-6));
    }
    this.t++;
    const bc1 = 1 - Math.pow(o.beta1, this.t);
    const bc2 = 1 - Math.pow(o.beta2, this.t);
    // AdamW's decoupled decay uses this step's rate, as core's tfjs path does (θ ← θ·(1 − lr·λ)).
    const decayFactor = o.weightDecay > 0 ? 1 - learningRate * o.weightDecay : 1;
    b.inst.k.adam(b.paramPtr, b.gradPtr, b.mPtr, b.vPtr, b.paramCount, learningRate, o.beta1, o.beta2, o.epsilon, bc1, bc2, decayFactor, gradScale);
  }

  /**
   * ema ← decay·ema + (1 − decay)·θ over the whole parameter block, starting from the weights at
   * creation. A plain loop over one Float32Array: ~17k multiply-adds for the seed MLP, a few µs.
   */
  emaStep(decay: number): void {
    this.checkLive();
    if (!(decay >= 0 && decay <= 1)) throw new Error(`${this.label}.emaStep: decay ${decay} is outside [0, 1]`);
    if (this.shadow === null) this.shadow = this.initial.slice();
    const s = this.shadow;
    const p = this.params();
    const keep = 1 - decay;
    for (let i = 0; i < s.length; i++) s[i] = decay * s[i] + keep * p[i];
  }

  /** Sum of batch losses since the last call (float64 on the JS side), then resets it. */
  takeLossSum(): number {
    const s = this.lossSum;
    this.lossSum = 0;
    return s;
  }

  /** Writes the kernel's weights into the model's tf.Variables (before saving or sampling). */
  syncToModel(weights: 'raw' | 'ema' = 'raw'): void {
    this.checkLive();
    if (weights === 'raw') {
      this.writeParams();
      return;
    }
    if (this.shadow === null) throw new Error(`${this.label}.syncToModel('ema'): emaStep was never called`);
    // Write the shadow through the same path as the raw weights, then put the raw ones back.
    const raw = this.params().slice();
    this.params().set(this.shadow);
    this.writeParams();
    this.params().set(raw);
  }

  /** Adam's step count, moments and EMA shadow per variable (copies), for checkpoints. */
  exportState(variables: readonly tf.Variable[]): FusedOptimizerState {
    this.checkLive();
    const b = this.block;
    const shadow = this.shadow ?? this.initial;
    const state: FusedOptimizerState = { step: this.t, m: [], v: [], ema: this.shadow ? [] : undefined };
    for (const variable of variables) {
      const { ptr, length } = this.segmentOf(variable);
      const off = ptr - b.paramPtr;
      state.m.push(b.inst.view(b.mPtr + off, length).slice());
      state.v.push(b.inst.view(b.vPtr + off, length).slice());
      state.ema?.push(shadow.slice(off / 4, off / 4 + length));
    }
    return state;
  }

  /**
   * Restores Adam's step count and moments (and the EMA shadow when given); the weights themselves
   * come from the model's variables, which the trainer read when it was created.
   */
  importState(variables: readonly tf.Variable[], state: FusedOptimizerState): void {
    this.checkLive();
    const b = this.block;
    if (state.m.length !== variables.length || state.v.length !== variables.length || (state.ema && state.ema.length !== variables.length)) {
      throw new Error(`${this.label}.importState: state for ${state.m.length} variables, the model has ${variables.length}`);
    }
    const shadow = state.ema ? this.initial.slice() : null;
    variables.forEach((variable, i) => {
      const { ptr, length } = this.segmentOf(variable);
      for (const [name, arr] of [['m', state.m[i]], ['v', state.v[i]], ...(state.ema ? [['ema', state.ema[i]]] : [])] as [string, Float32Array][]) {
        if (arr.length !== length) throw new Error(`${this.label}.importState: ${name} of ${variable.name} has ${arr.length} values, expected ${length}`);
      }
      const off = ptr - b.paramPtr;
      b.inst.view(b.mPtr + off, length).set(state.m[i]);
      b.inst.view(b.vPtr + off, length).set(state.v[i]);
      shadow?.set(state.ema?.[i] as Float32Array, off / 4);
    });
    this.t = state.step;
    this.shadow = shadow;
  }

  /** Marks the trainer unusable; its memory goes with the instance (no tensors are held). */
  dispose(): void {
    this.disposed = true;
  }
}
