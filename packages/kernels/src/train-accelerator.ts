/**
 * The fused training step: forward, backward and Adam/AdamW for a plain MLP denoiser in one
 * WebAssembly SIMD instance, with no tfjs op (and so no per-op dispatch) per step. It implements
 * core's {@link TrainAccelerator}; core's train() prepares batches on the CPU, calls step() per
 * batch, reads the loss once per epoch and syncs the weights back at the end.
 */
import type { AcceleratorTrainOptions, DenoiserModel, FusedTrainer, PlainMlpDescription, TrainAccelerator, TrainBatch } from '@diffusionlab/core';
import { mlpShape } from './describe.js';
import { MlpNetwork } from './mlp-network.js';
import { simdSupported } from './wasm.js';

/** Gradients are the parameter layout shifted by this many bytes; Adam moments follow. */
class TrainerNetwork extends MlpNetwork {
  gradPtr = 0;
  mPtr = 0;
  vPtr = 0;
  targetPtr = 0;
  /** Two ping-pong buffers for ∂L/∂(layer output), [capacity, max width]. */
  dPtr: [number, number] = [0, 0];

  constructor(shape: ReturnType<typeof mlpShape> & object, desc: PlainMlpDescription) {
    super(shape, desc, true);
    // parameters were allocated first; gradients and moments follow in the same layout
    this.inst.release(this.paramPtr + this.paramCount * 4);
    this.gradPtr = this.inst.alloc(this.paramCount);
    this.mPtr = this.inst.alloc(this.paramCount);
    this.vPtr = this.inst.alloc(this.paramCount);
    this.actMark = this.inst.mark();
  }

  protected override allocExtra(cap: number): void {
    const maxW = Math.max(...this.shape.widths);
    this.targetPtr = this.inst.alloc(cap * this.shape.dataDim);
    this.dPtr = [this.inst.alloc(cap * maxW), this.inst.alloc(cap * maxW)];
  }
}

/** A {@link FusedTrainer} for one model; owns the weights and Adam state while it trains. */
export class FusedMlpTrainer implements FusedTrainer {
  private readonly net: TrainerNetwork;
  private readonly gradOffset: number;
  private t = 0;
  private lossSum = 0;
  private disposed = false;
  /** EMA shadow of the parameter block (same layout as kernel memory); null until emaStep is used. */
  private shadow: Float32Array | null = null;
  /** The weights at creation, which the EMA starts from (as core's tfjs path clones them). */
  private readonly initial: Float32Array;

  constructor(
    private readonly desc: PlainMlpDescription,
    shape: ReturnType<typeof mlpShape> & object,
    private readonly opts: AcceleratorTrainOptions,
  ) {
    this.net = new TrainerNetwork(shape, desc);
    this.gradOffset = this.net.gradPtr - this.net.paramPtr;
    this.initial = this.params().slice();
  }

  /** A fresh view of the parameter block (views detach when kernel memory grows). */
  private params(): Float32Array {
    return this.net.inst.view(this.net.paramPtr, this.net.paramCount);
  }

  /** Adam step count so far (the t of the bias corrections). */
  get iterations(): number {
    return this.t;
  }

  /** Runs forward and backward only, leaving ∂L/∂θ in kernel memory; returns the batch loss. */
  computeGradients(batch: TrainBatch): number {
    const net = this.net;
    const k = net.inst.k;
    const n = batch.size;
    const D = net.shape.dataDim;
    net.ensureCapacity(n);
    net.setInput(batch.xt, batch.t, n);
    net.inst.view(net.targetPtr, n * D).set(batch.target.subarray(0, n * D));
    const pred = net.forward(n);
    let d = net.dPtr[0];
    let spare = net.dPtr[1];
    const loss = k.mseGrad(pred, net.targetPtr, d, n * D);
    for (let l = net.layers.length - 1; l >= 0; l--) {
      const p = net.layers[l];
      const input = l === 0 ? net.xPtr : net.outPtr[l - 1];
      k.gemmTN(input, d, p.w + this.gradOffset, p.nin, n, p.nout);
      k.colSum(d, p.b + this.gradOffset, n, p.nout);
      if (l > 0) {
        k.gemmNT(d, p.w, spare, n, p.nout, p.nin);
        k.actBackward(spare, input, net.auxPtr[l - 1], ((n * p.nin + 3) & ~3), net.actCode);
        [d, spare] = [spare, d];
      }
    }
    return loss;
  }

  /** Gradients of the last {@link computeGradients}, one [in·out] and one [out] array per layer. */
  readGradients(): { kernel: Float32Array; bias: Float32Array }[] {
    return this.net.layers.map((p) => ({
      kernel: this.net.inst.view(p.w + this.gradOffset, p.nin * p.nout).slice(),
      bias: this.net.inst.view(p.b + this.gradOffset, p.nout).slice(),
    }));
  }

  /** One Adam(W) step: forward, backward, optional clipping, update — all inside the kernel instance. */
  step(batch: TrainBatch, learningRate: number = this.opts.learningRate): void {
    if (this.disposed) throw new Error('FusedMlpTrainer used after dispose()');
    if (!(learningRate >= 0) || !Number.isFinite(learningRate)) throw new Error(`FusedMlpTrainer.step: learning rate ${learningRate} is not a finite non-negative number`);
    const loss = this.computeGradients(batch);
    this.lossSum += loss;
    const o = this.opts;
    const net = this.net;
    let gradScale = 1;
    if (o.gradClipNorm !== undefined) {
      // torch.nn.utils.clip_grad_norm_ / core's clipByGlobalNorm: scale = min(1, c/(‖g‖ + 1e-6))
      const norm = Math.sqrt(net.inst.k.sumSquares(net.gradPtr, net.paramCount));
      gradScale = Math.min(1, o.gradClipNorm / (norm + 1e-6));
    }
    this.t++;
    const bc1 = 1 - Math.pow(o.beta1, this.t);
    const bc2 = 1 - Math.pow(o.beta2, this.t);
    // AdamW's decoupled decay uses this step's rate, as core's tfjs path does (θ ← θ·(1 − lr·λ)).
    const decayFactor = o.weightDecay > 0 ? 1 - learningRate * o.weightDecay : 1;
    net.inst.k.adam(net.paramPtr, net.gradPtr, net.mPtr, net.vPtr, net.paramCount, learningRate, o.beta1, o.beta2, o.epsilon, bc1, bc2, decayFactor, gradScale);
  }

  /**
   * ema ← decay·ema + (1 − decay)·θ over the whole parameter block, starting from the weights at
   * creation. A plain loop over one Float32Array: ~17k multiply-adds for the seed MLP, a few µs.
   */
  emaStep(decay: number): void {
    if (this.disposed) throw new Error('FusedMlpTrainer used after dispose()');
    if (!(decay >= 0 && decay <= 1)) throw new Error(`FusedMlpTrainer.emaStep: decay ${decay} is outside [0, 1]`);
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
    if (this.disposed) throw new Error('FusedMlpTrainer used after dispose()');
    if (weights === 'raw') {
      this.net.writeTo(this.desc);
      return;
    }
    if (this.shadow === null) throw new Error("FusedMlpTrainer.syncToModel('ema'): emaStep was never called");
    // Write the shadow through the same path as the raw weights, then put the raw ones back.
    const raw = this.params().slice();
    this.params().set(this.shadow);
    this.net.writeTo(this.desc);
    this.params().set(raw);
  }

  /** The kernel's current weights (copies), per layer, for checks and checkpoints. */
  weights(): { kernel: Float32Array; bias: Float32Array }[] {
    return this.net.layers.map((p) => ({
      kernel: this.net.inst.view(p.w, p.nin * p.nout).slice(),
      bias: this.net.inst.view(p.b, p.nout).slice(),
    }));
  }

  /** Marks the trainer unusable; its memory goes with the instance (no tensors are held). */
  dispose(): void {
    this.disposed = true;
  }
}

/** Checks options and model; returns the trainer or the reason it declines. */
export function createFusedMlpTrainer(desc: PlainMlpDescription | null | undefined, options: AcceleratorTrainOptions): FusedMlpTrainer | string {
  if (options.optimizer !== 'adam' && options.optimizer !== 'adamw') return `optimizer '${String(options.optimizer)}' is not adam or adamw`;
  for (const key of ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay'] as const) {
    if (!Number.isFinite(options[key])) return `${key} is not a finite number`;
  }
  if (options.gradClipNorm !== undefined && !(options.gradClipNorm > 0)) return `gradClipNorm ${options.gradClipNorm} is not positive`;
  const shape = mlpShape(desc);
  if (typeof shape === 'string') return shape;
  if (!simdSupported()) return 'this runtime does not support WebAssembly SIMD';
  return new FusedMlpTrainer(desc as PlainMlpDescription, shape, options);
}

/**
 * The accelerator core's train() takes: runs plain-MLP denoisers (any depth and width; silu, relu,
 * tanh, gelu) with Adam or AdamW (and optional global-norm clipping) in WebAssembly SIMD, and
 * declines every other model with a reason. It computes in its own memory, so any tfjs backend works.
 */
export const mlpTrainAccelerator: TrainAccelerator = {
  name: 'wasm-simd-mlp',
  create(model: DenoiserModel, options: AcceleratorTrainOptions): FusedTrainer | string {
    if (typeof model.describePlainMlp !== 'function') return 'the model is not a plain MLP (no describePlainMlp)';
    return createFusedMlpTrainer(model.describePlainMlp(), options);
  },
};
