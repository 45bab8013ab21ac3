/**
 * The fused training step: forward, backward and Adam/AdamW for a plain MLP denoiser in one
 * WebAssembly SIMD instance, with no tfjs op (and so no per-op dispatch) per step. The accelerator
 * here implements core's {@link TrainAccelerator}: core's train() prepares batches on the CPU and
 * drives the trainer through a {@link FusedTrainingPath}.
 */
import type { DenoiserModel, Objective, PlainMlpDescription, TrainAccelerator, TrainBatch, TrainConfig, TrainingPath, TrainingPathContext } from '@diffusionlab/core';
import type * as tf from '@tensorflow/tfjs-core';
import { conditionalDecline, mlpShape } from './describe.js';
import { type AcceleratorTrainOptions, adamOptionsProblem, FusedAdamTrainer } from './fused-adam.js';
import { FusedTrainingPath } from './fused-training-path.js';
import { MlpNetwork } from './mlp-network.js';
import { createFusedResidualMlpTrainer } from './residual-train.js';
import { createFusedUnetTrainer, FusedUnetTrainer } from './unet-train.js';
import { declineIfTooBig, simdSupported } from './wasm.js';

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

/** A fused trainer for one plain MLP; owns the weights and Adam state while it trains. */
export class FusedMlpTrainer extends FusedAdamTrainer {
  private readonly net: TrainerNetwork;
  private readonly gradOffset: number;

  constructor(
    private readonly desc: PlainMlpDescription,
    shape: ReturnType<typeof mlpShape> & object,
    opts: AcceleratorTrainOptions,
  ) {
    super(new TrainerNetwork(shape, desc), opts, 'FusedMlpTrainer');
    this.net = this.block as TrainerNetwork;
    this.gradOffset = this.net.gradPtr - this.net.paramPtr;
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
        k.actBackward(spare, input, net.auxPtr[l - 1], (n * p.nin + 3) & ~3, net.actCode);
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

  /** Writes the kernel's parameter block into the model's tf.Variables. */
  protected writeParams(): void {
    this.net.writeTo(this.desc);
  }

  /** Reads the model's tf.Variables into the kernel's parameter block. */
  protected readParams(): void {
    this.net.readFrom(this.desc);
  }

  /** Each layer's kernel and bias variable with its place in the parameter block. */
  protected segments(): { variable: tf.Variable; ptr: number; length: number }[] {
    return this.desc.layers.flatMap(({ kernel, bias }, l) => {
      const p = this.net.layers[l];
      return [
        { variable: kernel, ptr: p.w, length: p.nin * p.nout },
        { variable: bias, ptr: p.b, length: p.nout },
      ];
    });
  }

  /** The kernel's current weights (copies), per layer, for checks and checkpoints. */
  weights(): { kernel: Float32Array; bias: Float32Array }[] {
    return this.net.layers.map((p) => ({
      kernel: this.net.inst.view(p.w, p.nin * p.nout).slice(),
      bias: this.net.inst.view(p.b, p.nout).slice(),
    }));
  }
}

/** Checks options and model; returns the trainer or the reason it declines. */
export function createFusedMlpTrainer(desc: PlainMlpDescription | null | undefined, options: AcceleratorTrainOptions): FusedMlpTrainer | string {
  const problem = adamOptionsProblem(options);
  if (problem !== null) return problem;
  const shape = mlpShape(desc);
  if (typeof shape === 'string') return shape;
  if (!simdSupported()) return 'this runtime does not support WebAssembly SIMD';
  return new FusedMlpTrainer(desc as PlainMlpDescription, shape, options);
}

/** A fused trainer for whatever the model's `describe()` names, or the reason none runs it. */
export function createFusedTrainer(model: Pick<DenoiserModel, 'describe' | 'labelNames'>, options: AcceleratorTrainOptions): FusedAdamTrainer | string {
  const desc = typeof model.describe === 'function' ? model.describe() : undefined;
  const conditional = conditionalDecline(model, desc);
  if (conditional) return conditional;
  if (desc === undefined) return 'the model is not a plain MLP, a residual MLP nor a U-Net (it has no describe())';
  if (!desc) return 'the model does not describe itself as a plain MLP, a residual MLP or a U-Net';
  if (desc.kind === 'plain-mlp') return declineIfTooBig(() => createFusedMlpTrainer(desc, options));
  if (desc.kind === 'residual-mlp') return declineIfTooBig(() => createFusedResidualMlpTrainer(desc, options));
  if (desc.kind === 'unet') return declineIfTooBig(() => createFusedUnetTrainer(desc, options));
  return `the fused kernels do not run '${String((desc as { kind: unknown }).kind)}' models`;
}

/** The optimiser settings of a parsed training config, as the fused trainers take them. */
export function fusedTrainOptions(config: TrainConfig, backend: string): AcceleratorTrainOptions {
  return {
    optimizer: config.optimizer,
    learningRate: config.learningRate,
    beta1: config.beta1,
    beta2: config.beta2,
    epsilon: config.epsilon,
    weightDecay: config.optimizer === 'adamw' ? config.weightDecay : 0,
    gradClipNorm: config.gradClipNorm,
    backend,
    threads: config.threads,
  };
}

const ACCELERATOR_NAME = 'wasm-simd-mlp';
/** What the run summary records when the accelerator trains a U-Net (its convolutional kernels). */
export const FUSED_UNET_PATH = 'fused:wasm-simd-unet';

/**
 * The training objectives the fused step runs. It minimises the plain MSE between the network's
 * output and `TrainBatch.target` on core's CPU-prepared batch, and both objectives are exactly that:
 * DDPM's simple loss (Ho et al. 2020 eq. 14) and conditional flow matching (Lipman et al. 2023
 * eq. 23), whose time input core scales into the DDPM range (`flowModelTime`). Why a list: an
 * objective added to core later declines here (the tfjs path trains it) until someone checks that
 * the kernel's loss is its loss, so the fused path never trains the wrong objective silently.
 */
export const FUSED_OBJECTIVES: readonly Objective[] = ['ddpm', 'flow'];

/**
 * The accelerator core's train() takes: runs plain-MLP denoisers, the residual MLP (`mlp`; any
 * depth and width; silu, relu, tanh, gelu) and the U-Net (`unet`, recorded as
 * `fused:wasm-simd-unet`) with Adam or AdamW (and optional global-norm clipping), EMA and exact
 * checkpoints in WebAssembly SIMD, for the DDPM and flow-matching objectives
 * ({@link FUSED_OBJECTIVES}), and declines every other model, option (loss weighting) or objective
 * with a reason. It computes in its own memory, so any tfjs backend works.
 */
export const mlpTrainAccelerator: TrainAccelerator = {
  name: ACCELERATOR_NAME,
  create({ model, config, backend }: TrainingPathContext): TrainingPath | string {
    if (config.lossWeighting !== 'none') return 'loss weighting runs on the tfjs path';
    if (!FUSED_OBJECTIVES.includes(config.objective))
      return `training.objective ${String(config.objective)} runs on the tfjs path (the fused step runs ${FUSED_OBJECTIVES.join(' and ')})`;
    const trainer = createFusedTrainer(model, fusedTrainOptions(config, backend));
    if (typeof trainer === 'string') return trainer;
    const path = trainer instanceof FusedUnetTrainer ? FUSED_UNET_PATH : `fused:${ACCELERATOR_NAME}`;
    return new FusedTrainingPath(path, trainer, model.variables, config);
  },
};
