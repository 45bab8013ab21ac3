/**
 * The fused training step for the residual MLP (`mlp` denoiser): forward, backward and Adam/AdamW
 * in one WebAssembly SIMD instance, composed from the plain-MLP primitives. The optimiser, clipping,
 * EMA and weight sync are {@link FusedAdamTrainer}'s, shared with the plain-MLP trainer. A
 * class-conditional model's class embedding C trains in the same block: its gradient, with a
 * one-hot input, is a scatter-add of the time layer's pre-activation gradient into the rows of the
 * batch's classes (what the denoiser's one-hot(y)ᵀ·∂ computes, without the dense product).
 */
import type { ResidualMlpDescription, TrainBatch } from '@diffusionlab/core';
import type * as tf from '@tensorflow/tfjs-core';
import { scatterAddRows } from './class-embedding.js';
import { type AcceleratorTrainOptions, adamOptionsProblem, FusedAdamTrainer } from './fused-adam.js';
import type { LayerPtrs } from './mlp-network.js';
import { orderedLayers, ResidualMlpNetwork, type ResidualMlpShape, residualMlpShape } from './residual-mlp-network.js';
import { pad4, simdSupported } from './wasm.js';

/** The network plus the backward pass's per-row buffers. */
class ResidualTrainerNetwork extends ResidualMlpNetwork {
  targetPtr = 0;
  /** ∂L/∂out [capacity, D]. */
  dOutPtr = 0;
  /** ∂L/∂hᵢ (running, [capacity, W]). */
  dhPtr = 0;
  /** ∂L/∂zᵢ [capacity, W]. */
  dzPtr = 0;
  /** ∂L/∂e accumulated over blocks [capacity, W]. */
  dePtr = 0;
  /** Scratch for a back-propagated branch [capacity, W]. */
  dTmpPtr = 0;

  constructor(shape: ResidualMlpShape, desc: ResidualMlpDescription) {
    super(shape, desc, true);
  }

  protected override allocExtra(cap: number): void {
    const W = this.shape.width;
    this.targetPtr = this.inst.alloc(cap * this.shape.dataDim);
    this.dOutPtr = this.inst.alloc(cap * this.shape.dataDim);
    this.dhPtr = this.inst.alloc(cap * W);
    this.dzPtr = this.inst.alloc(cap * W);
    this.dePtr = this.inst.alloc(cap * W);
    this.dTmpPtr = this.inst.alloc(cap * W);
  }
}

/** A fused trainer for one residual MLP; owns the weights and Adam state while it trains. */
export class FusedResidualMlpTrainer extends FusedAdamTrainer {
  private readonly net: ResidualTrainerNetwork;
  private readonly gradOffset: number;

  constructor(
    private readonly desc: ResidualMlpDescription,
    shape: ResidualMlpShape,
    opts: AcceleratorTrainOptions,
  ) {
    super(new ResidualTrainerNetwork(shape, desc), opts, 'FusedResidualMlpTrainer');
    this.net = this.block as ResidualTrainerNetwork;
    this.gradOffset = this.net.gradPtr - this.net.paramPtr;
  }

  /** dW = inputᵀ·d and db = Σ rows of d for one layer, into the gradient block. */
  private layerGrads(p: LayerPtrs, input: number, d: number, n: number): void {
    const k = this.net.inst.k;
    k.gemmTN(input, d, p.w + this.gradOffset, p.nin, n, p.nout);
    k.colSum(d, p.b + this.gradOffset, n, p.nout);
  }

  /** Runs forward and backward only, leaving ∂L/∂θ in kernel memory; returns the batch loss. */
  computeGradients(batch: TrainBatch): number {
    const net = this.net;
    const k = net.inst.k;
    const n = batch.size;
    const { dataDim: D, width: W, depth } = net.shape;
    const nW = n * W;
    const padded = pad4(nW);
    const act = net.actCode;
    net.ensureCapacity(n);
    net.setTime(batch.t, n);
    net.setInput(batch.xt, n);
    net.setLabels(batch.labels, n);
    net.inst.view(net.targetPtr, n * D).set(batch.target.subarray(0, n * D));
    const pred = net.forward(n);
    const loss = k.mseGrad(pred, net.targetPtr, net.dOutPtr, n * D);
    // out = L_out(act(h_depth))
    this.layerGrads(net.out, net.ahPtr[depth], net.dOutPtr, n);
    k.gemmNT(net.dOutPtr, net.out.w, net.dhPtr, n, D, W);
    k.actBackward(net.dhPtr, net.ahPtr[depth], net.ahAux[depth], padded, act);
    for (let i = depth - 1; i >= 0; i--) {
      const blk = net.blocks[i];
      // hᵢ₊₁ = hᵢ + L₁(zᵢ): dh flows to hᵢ unchanged and through the branch
      this.layerGrads(blk.dense1, net.zPtr[i], net.dhPtr, n);
      k.gemmNT(net.dhPtr, blk.dense1.w, net.dzPtr, n, W, W);
      k.actBackward(net.dzPtr, net.zPtr[i], net.zAux[i], padded, act);
      // zᵢ (pre-activation) = L₀(act(hᵢ)) + Lₜ(e)
      this.layerGrads(blk.dense0, net.ahPtr[i], net.dzPtr, n);
      k.gemmTN(net.ePtr, net.dzPtr, blk.time.w + this.gradOffset, W, n, W);
      net.copy(blk.time.b + this.gradOffset, blk.dense0.b + this.gradOffset, W);
      if (i === depth - 1) k.gemmNT(net.dzPtr, blk.time.w, net.dePtr, n, W, W);
      else {
        k.gemmNT(net.dzPtr, blk.time.w, net.dTmpPtr, n, W, W);
        net.addInto(net.dePtr, net.dTmpPtr, nW);
      }
      k.gemmNT(net.dzPtr, blk.dense0.w, net.dTmpPtr, n, W, W);
      k.actBackward(net.dTmpPtr, net.ahPtr[i], net.ahAux[i], padded, act);
      net.addInto(net.dhPtr, net.dTmpPtr, nW);
    }
    // h₀ = L_in(feat): the features need no gradient
    this.layerGrads(net.input, net.featPtr, net.dhPtr, n);
    // e = act(L_time(emb)) (depth ≥ 1, so some block read it)
    k.actBackward(net.dePtr, net.ePtr, net.eAux, padded, act);
    this.layerGrads(net.time, net.tembPtr, net.dePtr, n);
    if (net.classPtr) this.classGrads(n);
    return loss;
  }

  /** ∂L/∂C: row yᵢ of C gets row i of ∂L/∂(pre-activation of e) (in net.dePtr), summed in row order. */
  private classGrads(n: number): void {
    const net = this.net;
    scatterAddRows(net.inst.f32, net.classPtr + this.gradOffset, net.shape.classes + 1, net.dePtr, net.rowLabels, n, net.shape.width);
  }

  /** ∂L/∂C of the last {@link computeGradients} ([K + 1, W] row-major), or null for an unconditional model. */
  readClassGradient(): Float32Array | null {
    return this.net.classPtr ? this.net.inst.view(this.net.classPtr + this.gradOffset, this.net.classFloats).slice() : null;
  }

  /** The kernel's current class embedding C (a copy), or null for an unconditional model. */
  classWeights(): Float32Array | null {
    return this.net.classPtr ? this.net.inst.view(this.net.classPtr, this.net.classFloats).slice() : null;
  }

  /** Gradients of the last {@link computeGradients}, per layer in parameter order (time, input, blocks 0/t/1…, out). */
  readGradients(): { kernel: Float32Array; bias: Float32Array }[] {
    return this.read(this.gradOffset);
  }

  /** The kernel's current weights (copies), per layer in parameter order. */
  weights(): { kernel: Float32Array; bias: Float32Array }[] {
    return this.read(0);
  }

  private read(offset: number): { kernel: Float32Array; bias: Float32Array }[] {
    return this.net.layers.map((p) => ({
      kernel: this.net.inst.view(p.w + offset, p.nin * p.nout).slice(),
      bias: this.net.inst.view(p.b + offset, p.nout).slice(),
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
    const dense = orderedLayers(this.desc).flatMap(({ kernel, bias }, l) => {
      const p = this.net.layers[l];
      return [
        { variable: kernel, ptr: p.w, length: p.nin * p.nout },
        { variable: bias, ptr: p.b, length: p.nout },
      ];
    });
    if (!this.net.classPtr) return dense;
    return [...dense, { variable: this.net.classVariable(this.desc), ptr: this.net.classPtr, length: this.net.classFloats }];
  }
}

/** Checks options and model; returns the trainer or the reason it declines. */
export function createFusedResidualMlpTrainer(desc: ResidualMlpDescription | null | undefined, options: AcceleratorTrainOptions): FusedResidualMlpTrainer | string {
  const problem = adamOptionsProblem(options);
  if (problem !== null) return problem;
  const shape = residualMlpShape(desc);
  if (typeof shape === 'string') return shape;
  if (!simdSupported()) return 'this runtime does not support WebAssembly SIMD';
  return new FusedResidualMlpTrainer(desc as ResidualMlpDescription, shape, options);
}
