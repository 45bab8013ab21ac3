/**
 * The fused training step for the `unet` denoiser: forward, backward and Adam/AdamW in one
 * WebAssembly SIMD instance ({@link UnetNetwork}), with no tfjs op per step. The optimiser,
 * clipping, EMA and weight sync are {@link FusedAdamTrainer}'s, shared with the MLP trainers, so
 * checkpoints are in tfjs Adam's layout and resume exactly on either path.
 */
import type { TrainBatch, UnetDescription } from '@diffusionlab/core';
import type * as tf from '@tensorflow/tfjs-core';
import { type AcceleratorTrainOptions, adamOptionsProblem, FusedAdamTrainer } from './fused-adam.js';
import { UnetNetwork, type UnetShape, unetShape } from './unet-network.js';
import { resolveTrainThreads, UnetGradWorkers } from './unet-train-threads.js';
import { simdSupported } from './wasm.js';

/** A fused trainer for one U-Net; owns the weights and Adam state while it trains. */
export class FusedUnetTrainer extends FusedAdamTrainer {
  private readonly net: UnetNetwork;
  private readonly gradOffset: number;
  /** Threads a step's rows are split over (`options.threads`, resolved; 1 outside Node). */
  readonly threads: number;
  /** The worker threads beside the calling one (created on the first threaded step), or null on one thread. */
  private workers: UnetGradWorkers | null = null;

  constructor(
    private readonly desc: UnetDescription,
    shape: UnetShape,
    opts: AcceleratorTrainOptions,
  ) {
    super(new UnetNetwork(shape, desc, true), opts, 'FusedUnetTrainer');
    this.net = this.block as UnetNetwork;
    this.gradOffset = this.net.gradPtr - this.net.paramPtr;
    const { threads, note } = resolveTrainThreads(opts.threads);
    this.threads = threads;
    this.notes = note;
  }

  /**
   * Runs forward and backward only, leaving ∂L/∂θ in kernel memory; returns the batch loss. With
   * {@link threads} > 1 the rows are split across worker threads (unet-train-threads.ts): the same
   * loss and gradient up to float summation order.
   */
  computeGradients(batch: TrainBatch): number {
    const net = this.net;
    const n = batch.size;
    const D = net.dataDim;
    // Conditional batches (labels) stay on one thread: the worker's share carries no label rows.
    if (this.threads > 1 && n >= 2 && batch.labels === undefined) return this.computeGradientsThreaded(batch);
    net.ensureCapacity(n);
    net.setInput(batch.xt, batch.t, n);
    net.setLabels(batch.labels, n);
    net.inst.view(net.targetPtr, n * D).set(batch.target.subarray(0, n * D));
    net.forward(n);
    return net.backward(n);
  }

  private computeGradientsThreaded(batch: TrainBatch): number {
    const net = this.net;
    const n = batch.size;
    const D = net.dataDim;
    const parts = Math.min(this.threads, n);
    const per = Math.ceil(n / parts);
    const shares: { from: number; rows: number }[] = [];
    for (let from = per; from < n; from += per) shares.push({ from, rows: Math.min(per, n - from) });
    net.ensureCapacity(per);
    this.workers ??= new UnetGradWorkers(net, this.threads - 1);
    this.workers.begin(shares, batch.xt, batch.t, batch.target);
    net.setInput(batch.xt, batch.t, per);
    net.inst.view(net.targetPtr, per * D).set(batch.target.subarray(0, per * D));
    net.forward(per);
    const own = net.backward(per);
    return this.workers.finish(shares.length, own, per / n, n);
  }

  /** Stops the worker threads, then marks the trainer unusable. */
  override dispose(): void {
    this.workers?.terminate();
    this.workers = null;
    super.dispose();
  }

  /** Gradients of the last {@link computeGradients}, per layer in the description's order. */
  readGradients(): { kernel: Float32Array; bias: Float32Array }[] {
    return this.read(this.gradOffset);
  }

  /** The kernel's current weights (copies), per layer. */
  weights(): { kernel: Float32Array; bias: Float32Array }[] {
    return this.read(0);
  }

  private read(offset: number): { kernel: Float32Array; bias: Float32Array }[] {
    return this.net.layers.map((p) => ({
      kernel: this.net.inst.view(p.w + offset, p.size).slice(),
      bias: this.net.inst.view(p.b + offset, p.cout).slice(),
    }));
  }

  /** ∂L/∂C of the last {@link computeGradients} ([K + 1, 4·channels] row-major), or null for an unconditional U-Net. */
  readClassGradient(): Float32Array | null {
    return this.net.classPtr ? this.net.inst.view(this.net.classPtr + this.gradOffset, this.net.classFloats).slice() : null;
  }

  /** The kernel's current class embedding C (a copy), or null for an unconditional U-Net. */
  classWeights(): Float32Array | null {
    return this.net.classPtr ? this.net.inst.view(this.net.classPtr, this.net.classFloats).slice() : null;
  }

  protected writeParams(): void {
    this.net.writeTo(this.desc);
  }

  protected readParams(): void {
    this.net.readFrom(this.desc);
  }

  protected segments(): { variable: tf.Variable; ptr: number; length: number }[] {
    const layers = this.desc.layers.flatMap(({ kernel, bias }, l) => {
      const p = this.net.layers[l];
      return [
        { variable: kernel, ptr: p.w, length: p.size },
        { variable: bias, ptr: p.b, length: p.cout },
      ];
    });
    if (!this.net.classPtr) return layers;
    return [...layers, { variable: this.net.classVariable(this.desc), ptr: this.net.classPtr, length: this.net.classFloats }];
  }
}

/** Checks options and model; returns the trainer or the reason it declines. */
export function createFusedUnetTrainer(desc: UnetDescription | null | undefined, options: AcceleratorTrainOptions): FusedUnetTrainer | string {
  const problem = adamOptionsProblem(options);
  if (problem !== null) return problem;
  const shape = unetShape(desc);
  if (typeof shape === 'string') return shape;
  if (!simdSupported()) return 'this runtime does not support WebAssembly SIMD';
  return new FusedUnetTrainer(desc as UnetDescription, shape, options);
}
