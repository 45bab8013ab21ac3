/**
 * A plain MLP living in one kernel instance's memory: parameters, and per-row activation buffers
 * for up to `capacity` rows. The trainer and the predictor both build on it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PlainMlpDescription } from '@diffusionlab/core';
import { ACTIVATION_CODE, type MlpShape } from './describe.js';
import { KernelInstance, pad4 } from './wasm.js';

/** Byte pointers of one dense layer's parameters (and, for the trainer, gradients). */
export interface LayerPtrs {
  nin: number;
  nout: number;
  w: number;
  b: number;
}

/** Parameters laid out contiguously (each tensor padded to 4 floats) so Adam is one SIMD sweep. */
export class MlpNetwork {
  readonly inst = new KernelInstance();
  readonly layers: LayerPtrs[] = [];
  /** Padded float count of the whole parameter vector. */
  readonly paramCount: number;
  readonly paramPtr: number;
  readonly actCode: number;
  protected actMark = 0;
  capacity = 0;
  /** Input rows [capacity, D + 1] = concat(x, t). */
  xPtr = 0;
  /** Per layer: output (pre-activation, then activation in place) [capacity, out]. */
  outPtr: number[] = [];
  /** Per hidden layer: what the activation's backward needs (σ(z) for silu, z for gelu; 0 otherwise). */
  auxPtr: number[] = [];

  constructor(
    readonly shape: MlpShape,
    desc: PlainMlpDescription,
    private readonly keepAux: boolean,
  ) {
    this.actCode = ACTIVATION_CODE[shape.activation];
    const w = shape.widths;
    let count = 0;
    for (let l = 0; l + 1 < w.length; l++) count += pad4(w[l] * w[l + 1]) + pad4(w[l + 1]);
    this.paramCount = count;
    this.paramPtr = this.inst.alloc(count);
    let off = this.paramPtr;
    for (let l = 0; l + 1 < w.length; l++) {
      const layer = { nin: w[l], nout: w[l + 1], w: off, b: off + pad4(w[l] * w[l + 1]) * 4 };
      off = layer.b + pad4(w[l + 1]) * 4;
      this.layers.push(layer);
    }
    this.readFrom(desc);
    this.actMark = this.inst.mark();
  }

  /** Copies the model's variables into kernel memory. */
  readFrom(desc: PlainMlpDescription): void {
    desc.layers.forEach(({ kernel, bias }, l) => {
      const p = this.layers[l];
      this.inst.view(p.w, p.nin * p.nout).set(kernel.dataSync() as Float32Array);
      this.inst.view(p.b, p.nout).set(bias.dataSync() as Float32Array);
    });
  }

  /** Writes kernel memory back into the model's variables (no tensors left behind). */
  writeTo(desc: PlainMlpDescription): void {
    desc.layers.forEach(({ kernel, bias }, l) => {
      const p = this.layers[l];
      tf.tidy(() => {
        kernel.assign(tf.tensor2d(this.inst.view(p.w, p.nin * p.nout).slice(), [p.nin, p.nout]));
        bias.assign(tf.tensor1d(this.inst.view(p.b, p.nout).slice()));
      });
    });
  }

  /** Makes room for `rows` rows of activations (reallocates the activation area when it grows). */
  ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    const cap = Math.max(rows, this.capacity * 2);
    this.inst.release(this.actMark);
    this.xPtr = this.inst.alloc(cap * this.shape.widths[0]);
    this.outPtr = this.layers.map((p) => this.inst.alloc(cap * p.nout));
    this.auxPtr = this.layers.map((p, l) => (this.keepAux && l + 1 < this.layers.length && (this.actCode === 0 || this.actCode === 3) ? this.inst.alloc(cap * p.nout) : 0));
    this.allocExtra(cap);
    this.capacity = cap;
  }

  /** Subclasses allocate their own per-row buffers here. */
  protected allocExtra(_cap: number): void {}

  /** Fills the input rows with concat(xₜ, t) for rows [0, n) from row `from` of xt. */
  setInput(xt: Float32Array, t: Float32Array | number, n: number, from = 0): void {
    const D = this.shape.dataDim;
    const w0 = D + 1;
    const f = this.inst.f32;
    const base = this.xPtr / 4;
    for (let i = 0; i < n; i++) {
      const o = base + i * w0;
      const src = (from + i) * D;
      for (let j = 0; j < D; j++) f[o + j] = xt[src + j];
      f[o + D] = typeof t === 'number' ? t : t[from + i];
    }
  }

  /** Forward pass over n rows; returns the byte pointer of the output [n, D]. */
  forward(n: number): number {
    const k = this.inst.k;
    let input = this.xPtr;
    const last = this.layers.length - 1;
    for (let l = 0; l <= last; l++) {
      const p = this.layers[l];
      const out = this.outPtr[l];
      k.gemmNN(input, p.w, out, n, p.nin, p.nout, p.b);
      if (l < last) k.actForward(out, this.auxPtr[l], pad4(n * p.nout), this.actCode);
      input = out;
    }
    return this.outPtr[last];
  }
}
