/**
 * The residual MLP (`mlp` denoiser) living in one kernel instance's memory: its parameters in one
 * contiguous block, per-row activation buffers, and the forward pass composed from the plain-MLP
 * primitives (gemm, activation) plus JS loops for the residual and time-projection adds:
 *   e = act(L_time(emb(t))),  h₀ = L_in(feat(x)),
 *   hᵢ₊₁ = hᵢ + Lᵢ,₁(act(Lᵢ,₀(act(hᵢ)) + Lᵢ,ₜ(e))),  out = L_out(act(h_depth)).
 * The sinusoidal embedding and the Fourier input features have no parameters, so they are computed
 * on the JS side (float32, the same op order as the tfjs model) into kernel memory. A class-conditional
 * model adds row yᵢ of its class embedding C to the time layer's pre-activation,
 * e = act(L_time(emb(t)) + C[y]), as the denoiser's one-hot(y)·C does (row K, the null class, when
 * no labels are given); its parameters follow the dense layers in the block, so an unconditional
 * model's layout is unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DenseVariables, ResidualMlpDescription } from '@diffusionlab/core';
import { classCount, gatherAddRows, writeLabels } from './class-embedding.js';
import { ACTIVATION_CODE } from './describe.js';
import type { LayerPtrs } from './mlp-network.js';
import { SinusoidalTimeEmbedding } from './time-embedding.js';
import { KernelInstance, pad4 } from './wasm.js';

/** A validated residual MLP reduced to sizes. */
export interface ResidualMlpShape {
  activation: keyof typeof ACTIVATION_CODE;
  /** Data dimension D (input and output width). */
  dataDim: number;
  width: number;
  depth: number;
  /** E, the sinusoidal embedding's dimension. */
  timeEmbedding: number;
  /** T: the embedding takes 1000·t/T. */
  numTrainTimesteps: number;
  /** F Fourier frequencies; the input layer takes D(1 + 2F) features. */
  inputEmbedding: number;
  /** K, the classes of a conditional model (its class embedding has K + 1 rows, the last the null class); 0 when unconditional. */
  classes: number;
}

/** The dense layers of a description in parameter-block order: time, input, blocks (0, t, 1), out. */
export function orderedLayers(desc: ResidualMlpDescription): DenseVariables[] {
  return [desc.time, desc.input, ...desc.blocks.flatMap((b) => [b.dense0, b.time, b.dense1]), desc.out];
}

/** [in, out] of each layer in {@link orderedLayers} order, for a shape. */
function layerSizes(s: ResidualMlpShape): [number, number][] {
  const W = s.width;
  const sizes: [number, number][] = [
    [s.timeEmbedding, W],
    [s.dataDim * (1 + 2 * s.inputEmbedding), W],
  ];
  for (let i = 0; i < s.depth; i++) sizes.push([W, W], [W, W], [W, W]);
  sizes.push([W, s.dataDim]);
  return sizes;
}

const isCount = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

/** Returns the shape, or a reason string when the kernels cannot run this description. */
export function residualMlpShape(desc: ResidualMlpDescription | null | undefined): ResidualMlpShape | string {
  if (!desc) return 'the model does not describe itself as a residual MLP';
  if (desc.kind !== 'residual-mlp') return `unsupported model kind '${String(desc.kind)}'`;
  if (!(desc.activation in ACTIVATION_CODE)) return `unsupported activation '${String(desc.activation)}'`;
  if (!isCount(desc.dataDim, 1) || !isCount(desc.width, 1) || !isCount(desc.depth, 1)) return 'dataDim, width and depth must be positive integers';
  if (!isCount(desc.timeEmbedding, 2) || desc.timeEmbedding % 2 !== 0) return `timeEmbedding ${desc.timeEmbedding} is not an even integer ≥ 2`;
  if (!(desc.numTrainTimesteps > 0) || !Number.isFinite(desc.numTrainTimesteps)) return `numTrainTimesteps ${desc.numTrainTimesteps} is not positive`;
  if (!isCount(desc.inputEmbedding, 0)) return `inputEmbedding ${desc.inputEmbedding} is not a non-negative integer`;
  if (!Array.isArray(desc.blocks) || desc.blocks.length !== desc.depth) return `${desc.blocks?.length} blocks for depth ${desc.depth}`;
  const shape: ResidualMlpShape = {
    activation: desc.activation,
    dataDim: desc.dataDim,
    width: desc.width,
    depth: desc.depth,
    timeEmbedding: desc.timeEmbedding,
    numTrainTimesteps: desc.numTrainTimesteps,
    inputEmbedding: desc.inputEmbedding,
    classes: 0,
  };
  const classes = classCount(desc.classEmbedding, desc.width);
  if (typeof classes === 'string') return classes;
  shape.classes = classes;
  const sizes = layerSizes(shape);
  for (const [i, { kernel, bias }] of orderedLayers(desc).entries()) {
    if (!kernel || !bias) return `layer ${i} lacks its kernel or bias`;
    if (kernel.dtype !== 'float32' || bias.dtype !== 'float32') return `layer ${i} is not float32`;
    const [nin, nout] = sizes[i];
    if (kernel.shape.join(',') !== `${nin},${nout}` || bias.shape.join(',') !== `${nout}`) {
      return `layer ${i} has kernel [${kernel.shape}] and bias [${bias.shape}], expected [${nin},${nout}] and [${nout}]`;
    }
  }
  return shape;
}

/** Byte pointers of one residual block's three dense layers. */
export interface BlockPtrs {
  dense0: LayerPtrs;
  time: LayerPtrs;
  dense1: LayerPtrs;
}

/**
 * Parameters (padded to 4 floats per tensor) and, for the trainer, same-layout gradient and Adam
 * moment blocks right after them; activation buffers for up to `capacity` rows above those.
 */
export class ResidualMlpNetwork {
  readonly inst = new KernelInstance();
  readonly actCode: number;
  /** All dense layers in parameter order (time, input, blocks…, out). */
  readonly layers: LayerPtrs[] = [];
  readonly time: LayerPtrs;
  readonly input: LayerPtrs;
  readonly blocks: BlockPtrs[] = [];
  readonly out: LayerPtrs;
  /** A conditional model's class embedding C [K + 1, W] in the parameter block (after the dense layers); 0 when unconditional. */
  readonly classPtr: number = 0;
  /** Padded float count of the whole parameter vector. */
  readonly paramCount: number;
  readonly paramPtr: number;
  readonly gradPtr: number = 0;
  readonly mPtr: number = 0;
  readonly vPtr: number = 0;
  /** Input width D(1 + 2F). */
  readonly featDim: number;
  /** The sinusoidal time embedding, bit-identical to the tfjs denoiser's (shared with the fused U-Net). */
  private readonly timeEmbedding: SinusoidalTimeEmbedding;
  private readonly actMark: number;
  capacity = 0;
  /** Sinusoidal time features [capacity, E]. */
  tembPtr = 0;
  /** Input features [capacity, featDim]. */
  featPtr = 0;
  /** e = act(L_time(emb)) [capacity, W], and its activation aux. */
  ePtr = 0;
  eAux = 0;
  /** Residual stream h₀…h_depth, each [capacity, W]. */
  hPtr: number[] = [];
  /** act(hᵢ) for i = 0…depth, each [capacity, W], and aux. */
  ahPtr: number[] = [];
  ahAux: number[] = [];
  /** Per block: act(Lᵢ,₀(act(hᵢ)) + Lᵢ,ₜ(e)) [capacity, W], and aux. */
  zPtr: number[] = [];
  zAux: number[] = [];
  /** Scratch [capacity, W]. */
  tmpPtr = 0;
  /** Output [capacity, D]. */
  outPtr = 0;
  /** Inference only: per block, b₀ + Lₜ(e) for one shared t ({@link setSharedTime}); per class ([K + 1, W]) when conditional. */
  readonly sharedBias: number[] = [];
  /** Class of each row of the current batch (K, the null class, where none was given); unused when unconditional. */
  rowLabels = new Int32Array(0);

  constructor(
    readonly shape: ResidualMlpShape,
    desc: ResidualMlpDescription,
    private readonly training: boolean,
  ) {
    this.actCode = ACTIVATION_CODE[shape.activation];
    this.featDim = shape.dataDim * (1 + 2 * shape.inputEmbedding);
    const sizes = layerSizes(shape);
    let count = 0;
    for (const [nin, nout] of sizes) count += pad4(nin * nout) + pad4(nout);
    const classFloats = shape.classes > 0 ? pad4((shape.classes + 1) * shape.width) : 0;
    count += classFloats;
    this.paramCount = count;
    this.paramPtr = this.inst.alloc(count);
    if (training) {
      this.gradPtr = this.inst.alloc(count);
      this.mPtr = this.inst.alloc(count);
      this.vPtr = this.inst.alloc(count);
    }
    let off = this.paramPtr;
    for (const [nin, nout] of sizes) {
      const layer = { nin, nout, w: off, b: off + pad4(nin * nout) * 4 };
      off = layer.b + pad4(nout) * 4;
      this.layers.push(layer);
    }
    if (classFloats > 0) this.classPtr = off;
    this.time = this.layers[0];
    this.input = this.layers[1];
    for (let i = 0; i < shape.depth; i++) this.blocks.push({ dense0: this.layers[2 + 3 * i], time: this.layers[3 + 3 * i], dense1: this.layers[4 + 3 * i] });
    this.out = this.layers[this.layers.length - 1];
    this.timeEmbedding = new SinusoidalTimeEmbedding(shape.timeEmbedding, shape.numTrainTimesteps);
    if (!training) for (let i = 0; i < shape.depth; i++) this.sharedBias.push(this.inst.alloc((shape.classes + 1) * shape.width));
    this.readFrom(desc);
    this.actMark = this.inst.mark();
  }

  /** Copies the model's variables into kernel memory. */
  readFrom(desc: ResidualMlpDescription): void {
    orderedLayers(desc).forEach(({ kernel, bias }, l) => {
      const p = this.layers[l];
      this.inst.view(p.w, p.nin * p.nout).set(kernel.dataSync() as Float32Array);
      this.inst.view(p.b, p.nout).set(bias.dataSync() as Float32Array);
    });
    if (this.classPtr) this.inst.view(this.classPtr, this.classFloats).set(this.classVariable(desc).dataSync() as Float32Array);
  }

  /** Float count of the class embedding, (K + 1)·W. */
  get classFloats(): number {
    return (this.shape.classes + 1) * this.shape.width;
  }

  /** The description's class embedding (the shape check made sure a conditional network has one). */
  classVariable(desc: ResidualMlpDescription): tf.Variable {
    if (!desc.classEmbedding) throw new Error('internal: a conditional residual network without a class embedding');
    return desc.classEmbedding;
  }

  /** Writes kernel memory back into the model's variables (no tensors left behind). */
  writeTo(desc: ResidualMlpDescription): void {
    orderedLayers(desc).forEach(({ kernel, bias }, l) => {
      const p = this.layers[l];
      tf.tidy(() => {
        kernel.assign(tf.tensor2d(this.inst.view(p.w, p.nin * p.nout).slice(), [p.nin, p.nout]));
        bias.assign(tf.tensor1d(this.inst.view(p.b, p.nout).slice()));
      });
    });
    if (this.classPtr) {
      const c = this.classVariable(desc);
      tf.tidy(() => c.assign(tf.tensor2d(this.inst.view(this.classPtr, this.classFloats).slice(), [this.shape.classes + 1, this.shape.width])));
    }
  }

  /** Whether activation `code` needs an aux buffer in backward (σ(z) for silu, z for gelu). */
  private needsAux(): boolean {
    return this.training && (this.actCode === 0 || this.actCode === 3);
  }

  /** Makes room for `rows` rows of activations (reallocates the activation area when it grows). */
  ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    const cap = Math.max(rows, this.capacity * 2);
    const { width: W, depth, dataDim: D, timeEmbedding: E } = this.shape;
    const aux = () => (this.needsAux() ? this.inst.alloc(cap * W) : 0);
    this.inst.release(this.actMark);
    this.tembPtr = this.inst.alloc(cap * E);
    this.featPtr = this.inst.alloc(cap * this.featDim);
    this.ePtr = this.inst.alloc(cap * W);
    this.eAux = aux();
    // inference keeps no per-layer history: two residual buffers and one of each other kind suffice
    const keep = this.training ? depth + 1 : 2;
    this.hPtr = Array.from({ length: keep }, () => this.inst.alloc(cap * W));
    this.ahPtr = Array.from({ length: this.training ? depth + 1 : 1 }, () => this.inst.alloc(cap * W));
    this.ahAux = this.ahPtr.map(aux);
    this.zPtr = Array.from({ length: this.training ? depth : 1 }, () => this.inst.alloc(cap * W));
    this.zAux = this.zPtr.map(aux);
    this.tmpPtr = this.inst.alloc(cap * W);
    this.outPtr = this.inst.alloc(cap * D);
    const labels = new Int32Array(cap);
    labels.set(this.rowLabels.subarray(0, Math.min(this.rowLabels.length, cap)));
    this.rowLabels = labels;
    this.allocExtra(cap);
    this.capacity = cap;
  }

  /** Subclasses allocate their own per-row buffers here (called by {@link ensureCapacity}). */
  protected allocExtra(_cap: number): void {}

  /** Writes the time embedding of each row's t (or of one t for all rows) into rows [0, n) of temb. */
  setTime(t: Float32Array | number, n: number, from = 0): void {
    this.timeEmbedding.write(this.inst.f32, this.tembPtr / 4, t, n, from);
  }

  /**
   * Sets the classes of rows [0, n) from labels[from … from + n), or the null class K for every row
   * when `labels` is absent (the model's unconditional prediction). Does nothing for an
   * unconditional network, which ignores labels as the model does. Throws on a label outside [0, K]:
   * the model's one-hot would give such a row no embedding at all, silently.
   */
  setLabels(labels: ArrayLike<number> | undefined, n: number, from = 0): void {
    if (this.shape.classes > 0) writeLabels(this.rowLabels, labels, n, from, this.shape.classes, 'fused residual MLP');
  }

  /** Adds C[rowLabels[i]] to row i of `ptr` ([n, W], byte pointer), for a conditional network. */
  addClassRows(ptr: number, n: number): void {
    gatherAddRows(this.inst.f32, ptr, this.classPtr, this.rowLabels, n, this.shape.width);
  }

  /** Writes feat(x) = [x, sin(2ᵏx), cos(2ᵏx)] (per dimension d, frequency k at d·F + k) for rows [0, n). */
  setInput(xt: Float32Array, n: number, from = 0): void {
    const D = this.shape.dataDim;
    const F = this.shape.inputEmbedding;
    const w = this.featDim;
    const f = this.inst.f32;
    const base = this.featPtr / 4;
    if (F === 0) {
      f.set(xt.subarray(from * D, (from + n) * D), base);
      return;
    }
    for (let i = 0; i < n; i++) {
      const o = base + i * w;
      const src = (from + i) * D;
      for (let d = 0; d < D; d++) {
        const x = Math.fround(xt[src + d]);
        f[o + d] = x;
        for (let k = 0, p = 1; k < F; k++, p *= 2) {
          const a = Math.fround(x * p);
          f[o + D + d * F + k] = Math.sin(a);
          f[o + D + D * F + d * F + k] = Math.cos(a);
        }
      }
    }
  }

  /** dst[0, count) += src[0, count) over kernel memory (byte pointers). */
  addInto(dst: number, src: number, count: number): void {
    const f = this.inst.f32;
    const d = dst / 4;
    const s = src / 4;
    for (let i = 0; i < count; i++) f[d + i] += f[s + i];
  }

  /** Copies `count` floats from src to dst (byte pointers). */
  copy(dst: number, src: number, count: number): void {
    this.inst.f32.copyWithin(dst / 4, src / 4, src / 4 + count);
  }

  /**
   * Inference with one t for every row (what samplers do): folds the block's time projection into
   * its first layer's bias, b₀ + Lₜ(e(t)), so {@link forward} with `sharedTime` skips one of each
   * block's three matrix products. Needs capacity ≥ 1; uses row 0 of temb and e as scratch.
   */
  setSharedTime(t: number): void {
    if (this.training) throw new Error('internal: setSharedTime is for inference networks');
    const k = this.inst.k;
    const { width: W, timeEmbedding: E, classes: K } = this.shape;
    if (K === 0) {
      this.setTime(t, 1);
      k.gemmNN(this.tembPtr, this.time.w, this.ePtr, 1, E, W, this.time.b);
      k.actForward(this.ePtr, 0, pad4(W), this.actCode);
      this.blocks.forEach((blk, i) => {
        k.gemmNN(this.ePtr, blk.time.w, this.sharedBias[i], 1, W, W, blk.time.b);
        this.addInto(this.sharedBias[i], blk.dense0.b, W);
      });
      return;
    }
    // Conditional: one folded bias per class (row k for class k, row K the null class), picked per row in forward.
    const rows = K + 1;
    this.ensureCapacity(rows);
    const saved = this.rowLabels.slice(0, rows);
    this.setTime(t, rows);
    k.gemmNN(this.tembPtr, this.time.w, this.ePtr, rows, E, W, this.time.b);
    for (let c = 0; c < rows; c++) this.rowLabels[c] = c;
    this.addClassRows(this.ePtr, rows);
    this.rowLabels.set(saved);
    k.actForward(this.ePtr, 0, pad4(rows * W), this.actCode);
    this.blocks.forEach((blk, i) => {
      k.gemmNN(this.ePtr, blk.time.w, this.sharedBias[i], rows, W, W, blk.time.b);
      for (let c = 0; c < rows; c++) this.addInto(this.sharedBias[i] + c * W * 4, blk.dense0.b, W);
    });
  }

  /** z[i] += sharedBias[block][rowLabels[i]] for rows [0, n) (conditional shared-time inference). */
  private addClassBias(z: number, block: number, n: number): void {
    gatherAddRows(this.inst.f32, z, this.sharedBias[block], this.rowLabels, n, this.shape.width);
  }

  /**
   * Forward pass over rows [0, n) of temb and feat (and, when conditional, the rows' classes from
   * {@link setLabels}), keeping what backward needs when training; with `sharedTime` (inference,
   * after {@link setSharedTime}) temb is not read. Returns the byte pointer of the output [n, D].
   */
  forward(n: number, sharedTime = false): number {
    const k = this.inst.k;
    const { width: W, timeEmbedding: E, depth } = this.shape;
    const nW = n * W;
    const padded = pad4(nW);
    const act = this.actCode;
    if (!sharedTime) {
      k.gemmNN(this.tembPtr, this.time.w, this.ePtr, n, E, W, this.time.b);
      if (this.shape.classes > 0) this.addClassRows(this.ePtr, n);
      k.actForward(this.ePtr, this.eAux, padded, act);
    }
    k.gemmNN(this.featPtr, this.input.w, this.hPtr[0], n, this.featDim, W, this.input.b);
    for (let i = 0; i < depth; i++) {
      const blk = this.blocks[i];
      const h = this.training ? this.hPtr[i] : this.hPtr[i & 1];
      const hNext = this.training ? this.hPtr[i + 1] : this.hPtr[(i + 1) & 1];
      const ah = this.training ? this.ahPtr[i] : this.ahPtr[0];
      const z = this.training ? this.zPtr[i] : this.zPtr[0];
      const zAux = this.training ? this.zAux[i] : 0;
      this.copy(ah, h, nW);
      k.actForward(ah, this.training ? this.ahAux[i] : 0, padded, act);
      if (sharedTime && this.shape.classes > 0) {
        k.gemmNN(ah, blk.dense0.w, z, n, W, W, 0);
        this.addClassBias(z, i, n);
      } else if (sharedTime) k.gemmNN(ah, blk.dense0.w, z, n, W, W, this.sharedBias[i]);
      else {
        k.gemmNN(ah, blk.dense0.w, z, n, W, W, blk.dense0.b);
        k.gemmNN(this.ePtr, blk.time.w, this.tmpPtr, n, W, W, blk.time.b);
        this.addInto(z, this.tmpPtr, nW);
      }
      k.actForward(z, zAux, padded, act);
      k.gemmNN(z, blk.dense1.w, hNext, n, W, W, blk.dense1.b);
      this.addInto(hNext, h, nW);
    }
    const hLast = this.training ? this.hPtr[depth] : this.hPtr[depth & 1];
    const ahLast = this.training ? this.ahPtr[depth] : this.ahPtr[0];
    this.copy(ahLast, hLast, nW);
    k.actForward(ahLast, this.training ? this.ahAux[depth] : 0, padded, act);
    k.gemmNN(ahLast, this.out.w, this.outPtr, n, W, this.shape.dataDim, this.out.b);
    return this.outPtr;
  }
}
