/**
 * The `unet` denoiser (Ronneberger et al. 2015, as used for diffusion by Ho et al. 2020, App. B)
 * living in one kernel instance's memory: its parameters in one contiguous block, and the network
 * recorded once as a tape of NHWC ops over named buffers — conv ('same', via im2col: Chellapilla
 * et al. 2006), dense, activation, broadcast time add, residual add, channel concat, 2×2 average
 * pool, nearest 2× upsample. Forward runs the tape; backward runs it in reverse, each op adding its
 * input gradients (a buffer read by several ops — the time features, a skip — sums them) and
 * writing its layer's parameter gradients.
 *
 * The body below mirrors the denoiser's own (`packages/denoisers/src/unet.ts`); the check in
 * {@link unetShape} compares the layer list it declares, name by name and shape by shape, with the
 * model's description, and declines any description field it does not know, so a model with an
 * option this file does not implement never runs here. A class-conditional U-Net's class embedding
 * C ([K + 1, 4C]) joins the time layer's pre-activation as one more tape op (`addClass`: row yᵢ of C
 * added to row i, C's gradient a scatter-add), its parameters after every layer's.
 */
import type { UnetDescription } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { classCount, gatherAddRows, scatterAddRows, writeLabels } from './class-embedding.js';
import { ACTIVATION_CODE } from './describe.js';
import { SinusoidalTimeEmbedding } from './time-embedding.js';
import { KernelInstance, pad4 } from './wasm.js';

/** A validated U-Net reduced to sizes. */
export interface UnetShape {
  /** Image height, width and channels. */
  H: number;
  W: number;
  C: number;
  channels: number;
  channelMultipliers: number[];
  blocksPerLevel: number;
  timeEmbedding: number;
  activation: keyof typeof ACTIVATION_CODE;
  numTrainTimesteps: number;
  /** K, the classes of a conditional model (class embedding [K + 1, 4·channels], the last row the null class); 0 when unconditional. */
  classes: number;
}

/** One weighted layer as the body declares it. */
export interface UnetLayerDecl {
  name: string;
  kind: 'conv' | 'dense';
  /** Kernel size (1 for dense). */
  k: number;
  cin: number;
  cout: number;
}

/** The description fields this file implements; any other field (a newer option) makes it decline. */
const KNOWN_FIELDS = new Set([
  'kind',
  'dataShape',
  'numTrainTimesteps',
  'channels',
  'channelMultipliers',
  'blocksPerLevel',
  'timeEmbedding',
  'activation',
  'norm',
  'groups',
  'attention',
  'attentionHeads',
  'layers',
  'classEmbedding',
]);

/** The operations the body is written in (as in the denoiser), over some value type. */
interface Ops<T> {
  channels(x: T): number;
  conv(x: T, name: string, k: number, cout: number): T;
  dense(x: T, name: string, units: number): T;
  act(x: T): T;
  /** The time layer's pre-activation plus the rows' class embedding, in place (identity when unconditional). */
  addClass(pre: T): T;
  /** skip + h, where h is a fresh value no other op reads (so it may be updated in place). */
  add(skip: T, h: T): T;
  /** h [n, H, W, c] + p [n, c] broadcast over pixels (h fresh, updated in place). */
  addTime(h: T, p: T): T;
  concat(a: T, b: T): T;
  down(x: T): T;
  up(x: T): T;
}

function resBlock<T>(ops: Ops<T>, x: T, e: T, name: string, cout: number): T {
  let h = ops.conv(ops.act(x), `${name}_conv_0`, 3, cout);
  h = ops.addTime(h, ops.dense(e, `${name}_time`, cout));
  h = ops.conv(ops.act(h), `${name}_conv_1`, 3, cout);
  const skip = ops.channels(x) === cout ? x : ops.conv(x, `${name}_skip`, 1, cout);
  return ops.add(skip, h);
}

/** The U-Net body on image x and time embedding emb; returns the output [n, H, W, C]. */
function unetBody<T>(ops: Ops<T>, x: T, emb: T, s: UnetShape): T {
  const C = s.channels;
  const L = s.channelMultipliers.length;
  const e = ops.act(ops.addClass(ops.dense(emb, 'time_dense', 4 * C)));
  let h = ops.conv(x, 'in_conv', 3, C);
  const skips: T[] = [];
  for (let l = 0; l < L; l++) {
    for (let b = 0; b < s.blocksPerLevel; b++) h = resBlock(ops, h, e, `down_${l}_${b}`, C * s.channelMultipliers[l]);
    skips.push(h);
    if (l < L - 1) h = ops.down(h);
  }
  h = resBlock(ops, h, e, 'mid', C * s.channelMultipliers[L - 1]);
  for (let l = L - 1; l >= 0; l--) {
    h = ops.concat(h, skips[l]);
    for (let b = 0; b < s.blocksPerLevel; b++) h = resBlock(ops, h, e, `up_${l}_${b}`, C * s.channelMultipliers[l]);
    if (l > 0) h = ops.up(h);
  }
  return ops.conv(ops.act(h), 'out_conv', 3, s.C);
}

/** The weighted layers of a shape, in the model's creation order. */
export function unetLayers(s: UnetShape): UnetLayerDecl[] {
  const decls: UnetLayerDecl[] = [];
  const ops: Ops<number> = {
    channels: (x) => x,
    conv: (x, name, k, cout) => (decls.push({ name, kind: 'conv', k, cin: x, cout }), cout),
    dense: (x, name, units) => (decls.push({ name, kind: 'dense', k: 1, cin: x, cout: units }), units),
    act: (x) => x,
    addClass: (x) => x,
    add: (a) => a,
    addTime: (h) => h,
    concat: (a, b) => a + b,
    down: (x) => x,
    up: (x) => x,
  };
  unetBody(ops, s.C, s.timeEmbedding, s);
  return decls;
}

const isCount = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

/** Returns the shape, or the reason the kernels cannot run this description. */
export function unetShape(desc: UnetDescription | null | undefined): UnetShape | string {
  if (!desc) return 'the model does not describe itself as a U-Net';
  if (desc.kind !== 'unet') return `unsupported model kind '${String(desc.kind)}'`;
  const unknown = Object.keys(desc).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) return `the fused U-Net does not implement the option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}`;
  if (desc.norm !== undefined && desc.norm !== 'none') return `the fused U-Net has no normalisation layers (norm '${String(desc.norm)}'); it runs on tfjs ops`;
  if (desc.attention !== undefined && desc.attention !== false) return 'the fused U-Net has no attention blocks (attention on); it runs on tfjs ops';
  if (!(desc.activation in ACTIVATION_CODE)) return `unsupported activation '${String(desc.activation)}'`;
  const ds = desc.dataShape;
  if (!Array.isArray(ds) || ds.length !== 3 || !ds.every((d) => isCount(d, 1))) return `dataShape [${String(ds)}] is not [H, W, C]`;
  if (!isCount(desc.channels, 1) || !isCount(desc.blocksPerLevel, 1)) return 'channels and blocksPerLevel must be positive integers';
  const mults = desc.channelMultipliers;
  if (!Array.isArray(mults) || mults.length < 1 || !mults.every((m) => isCount(m, 1))) return 'channelMultipliers must be positive integers';
  if (!isCount(desc.timeEmbedding, 2) || desc.timeEmbedding % 2 !== 0) return `timeEmbedding ${desc.timeEmbedding} is not an even integer ≥ 2`;
  if (!(desc.numTrainTimesteps > 0) || !Number.isFinite(desc.numTrainTimesteps)) return `numTrainTimesteps ${desc.numTrainTimesteps} is not positive`;
  const f = 2 ** (mults.length - 1);
  if (ds[0] % f !== 0 || ds[1] % f !== 0) return `${ds[0]}×${ds[1]} does not divide by ${f}`;
  const shape: UnetShape = {
    H: ds[0],
    W: ds[1],
    C: ds[2],
    channels: desc.channels,
    channelMultipliers: [...mults],
    blocksPerLevel: desc.blocksPerLevel,
    timeEmbedding: desc.timeEmbedding,
    activation: desc.activation,
    numTrainTimesteps: desc.numTrainTimesteps,
    classes: 0,
  };
  const classes = classCount(desc.classEmbedding, 4 * desc.channels);
  if (typeof classes === 'string') return classes;
  shape.classes = classes;
  const decls = unetLayers(shape);
  if (!Array.isArray(desc.layers) || desc.layers.length !== decls.length) return `the model has ${desc.layers?.length} weighted layers, the fused U-Net ${decls.length}`;
  for (const [i, d] of decls.entries()) {
    const { name, kernel, bias } = desc.layers[i];
    if (name !== d.name) return `layer ${i} is '${name}', the fused U-Net expects '${d.name}'`;
    if (!kernel || !bias || kernel.dtype !== 'float32' || bias.dtype !== 'float32') return `layer ${name} is not a float32 kernel and bias`;
    const want = d.kind === 'conv' ? [d.k, d.k, d.cin, d.cout] : [d.cin, d.cout];
    if (kernel.shape.join(',') !== want.join(',') || bias.shape.join(',') !== `${d.cout}`) {
      return `layer ${name} has kernel [${kernel.shape}] and bias [${bias.shape}], expected [${want}] and [${d.cout}]`;
    }
  }
  return shape;
}

/** A value of the tape: per-row size, and its buffers once {@link UnetNetwork.ensureCapacity} placed them. */
interface Buf {
  /** Spatial size (1×1 for dense rows) and channels; a row holds h·w·ch floats. */
  h: number;
  w: number;
  ch: number;
  /** Whether backward needs ∂L/∂(this) (false for the inputs). */
  needsGrad: boolean;
  /** An activation output whose backward needs aux (σ(z) for silu, z for gelu). */
  hasAux: boolean;
  ptr: number;
  grad: number;
  aux: number;
  /** Backward bookkeeping: whether grad holds a value yet (the first contribution writes, later ones add). */
  gradSet: boolean;
}

type TapeOp =
  | { op: 'dense' | 'conv'; x: Buf; y: Buf; layer: number }
  | { op: 'act' | 'down' | 'up'; x: Buf; y: Buf }
  | { op: 'addTime'; h: Buf; p: Buf }
  | { op: 'addClass'; h: Buf }
  | { op: 'add'; skip: Buf; h: Buf }
  | { op: 'concat'; a: Buf; b: Buf; y: Buf };

/** Byte pointers of one layer's kernel and bias in the parameter block, with its sizes. */
export interface UnetLayerPtrs extends UnetLayerDecl {
  w: number;
  b: number;
  /** Kernel float count. */
  size: number;
}

/** Pixels per im2col chunk (bench/conv.mjs: 128 keeps the filter gradient's lowered rows in L2). */
const CHUNK = 128;

/**
 * Parameters (each tensor padded to 4 floats), and for the trainer same-layout gradient and Adam
 * moment blocks; activation, gradient and aux buffers for up to `capacity` images above those.
 */
export class UnetNetwork {
  readonly inst = new KernelInstance();
  readonly actCode: number;
  readonly layers: UnetLayerPtrs[] = [];
  readonly paramCount: number;
  readonly paramPtr: number;
  readonly gradPtr: number = 0;
  readonly mPtr: number = 0;
  readonly vPtr: number = 0;
  /** Floats per image, H·W·C (input and output). */
  readonly dataDim: number;
  readonly embedding: SinusoidalTimeEmbedding;
  private readonly bufs: Buf[] = [];
  private readonly tape: TapeOp[] = [];
  private readonly xBuf: Buf;
  private readonly embBuf: Buf;
  private readonly outBuf: Buf;
  private readonly actMark: number;
  capacity = 0;
  /** Target [capacity, dataDim] (training). */
  targetPtr = 0;
  private scratch = 0;
  private flipPtr = 0;
  private gradScratch: [number, number] = [0, 0];
  /** A conditional model's class embedding C [K + 1, 4·channels] in the parameter block (after every layer); 0 when unconditional. */
  readonly classPtr: number = 0;
  /** (K + 1)·4·channels, C's float count (0 when unconditional). */
  readonly classFloats: number = 0;
  /** Class of each row of the current batch ({@link setLabels}); unused when unconditional. */
  rowLabels = new Int32Array(0);

  constructor(
    readonly shape: UnetShape,
    desc: UnetDescription,
    private readonly training: boolean,
  ) {
    this.actCode = ACTIVATION_CODE[shape.activation];
    this.dataDim = shape.H * shape.W * shape.C;
    this.embedding = new SinusoidalTimeEmbedding(shape.timeEmbedding, shape.numTrainTimesteps);
    const decls = unetLayers(shape);
    let count = 0;
    for (const d of decls) count += pad4(d.k * d.k * d.cin * d.cout) + pad4(d.cout);
    if (shape.classes > 0) this.classFloats = (shape.classes + 1) * 4 * shape.channels;
    count += pad4(this.classFloats);
    this.paramCount = count;
    this.paramPtr = this.inst.alloc(count);
    if (training) {
      this.gradPtr = this.inst.alloc(count);
      this.mPtr = this.inst.alloc(count);
      this.vPtr = this.inst.alloc(count);
    }
    let off = this.paramPtr;
    for (const d of decls) {
      const size = d.k * d.k * d.cin * d.cout;
      this.layers.push({ ...d, size, w: off, b: off + pad4(size) * 4 });
      off += (pad4(size) + pad4(d.cout)) * 4;
    }
    if (this.classFloats > 0) this.classPtr = off;
    this.xBuf = this.buf(shape.H, shape.W, shape.C, false);
    this.embBuf = this.buf(1, 1, shape.timeEmbedding, false);
    this.outBuf = unetBody(this.recorder(), this.xBuf, this.embBuf, shape);
    this.readFrom(desc);
    this.actMark = this.inst.mark();
  }

  private buf(h: number, w: number, ch: number, needsGrad = true, hasAux = false): Buf {
    const b: Buf = { h, w, ch, needsGrad, hasAux, ptr: 0, grad: 0, aux: 0, gradSet: false };
    this.bufs.push(b);
    return b;
  }

  /** Ops that record the tape (layer indices follow the declaration order of {@link unetLayers}). */
  private recorder(): Ops<Buf> {
    let layer = 0;
    const tape = this.tape;
    const auxed = this.actCode === 0 || this.actCode === 3;
    return {
      channels: (x) => x.ch,
      conv: (x, _name, _k, cout) => {
        const y = this.buf(x.h, x.w, cout);
        tape.push({ op: 'conv', x, y, layer: layer++ });
        return y;
      },
      dense: (x, _name, units) => {
        const y = this.buf(1, 1, units);
        tape.push({ op: 'dense', x, y, layer: layer++ });
        return y;
      },
      act: (x) => {
        const y = this.buf(x.h, x.w, x.ch, true, auxed);
        tape.push({ op: 'act', x, y });
        return y;
      },
      addClass: (h) => {
        if (this.shape.classes > 0) tape.push({ op: 'addClass', h });
        return h;
      },
      add: (skip, h) => (tape.push({ op: 'add', skip, h }), h),
      addTime: (h, p) => (tape.push({ op: 'addTime', h, p }), h),
      concat: (a, b) => {
        const y = this.buf(a.h, a.w, a.ch + b.ch);
        tape.push({ op: 'concat', a, b, y });
        return y;
      },
      down: (x) => {
        const y = this.buf(x.h / 2, x.w / 2, x.ch);
        tape.push({ op: 'down', x, y });
        return y;
      },
      up: (x) => {
        const y = this.buf(x.h * 2, x.w * 2, x.ch);
        tape.push({ op: 'up', x, y });
        return y;
      },
    };
  }

  /** Copies the model's variables into kernel memory. */
  readFrom(desc: UnetDescription): void {
    desc.layers.forEach(({ kernel, bias }, l) => {
      const p = this.layers[l];
      this.inst.view(p.w, p.size).set(kernel.dataSync() as Float32Array);
      this.inst.view(p.b, p.cout).set(bias.dataSync() as Float32Array);
    });
    if (this.classPtr) this.inst.view(this.classPtr, this.classFloats).set(this.classVariable(desc).dataSync() as Float32Array);
  }

  /** The description's class embedding (the shape check made sure a conditional network has one). */
  classVariable(desc: UnetDescription): tf.Variable {
    if (!desc.classEmbedding) throw new Error('internal: a conditional U-Net network without a class embedding');
    return desc.classEmbedding;
  }

  /** Writes kernel memory back into the model's variables (no tensors left behind). */
  writeTo(desc: UnetDescription): void {
    desc.layers.forEach(({ kernel, bias }, l) => {
      const p = this.layers[l];
      tf.tidy(() => {
        kernel.assign(tf.tensor(this.inst.view(p.w, p.size).slice(), kernel.shape));
        bias.assign(tf.tensor1d(this.inst.view(p.b, p.cout).slice()));
      });
    });
    if (this.classPtr) {
      const c = this.classVariable(desc);
      tf.tidy(() => c.assign(tf.tensor(this.inst.view(this.classPtr, this.classFloats).slice(), c.shape)));
    }
  }

  /** Makes room for `rows` images (reallocates every activation buffer when it grows). */
  ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    const cap = Math.max(rows, this.capacity * 2);
    const inst = this.inst;
    inst.release(this.actMark);
    let maxRow = 0;
    for (const b of this.bufs) {
      const n = cap * b.h * b.w * b.ch;
      maxRow = Math.max(maxRow, n);
      b.ptr = inst.alloc(n);
      b.grad = this.training && b.needsGrad ? inst.alloc(n) : 0;
      b.aux = this.training && b.hasAux ? inst.alloc(n) : 0;
    }
    let maxK = 0;
    let maxKernel = 0;
    for (const l of this.layers) {
      maxK = Math.max(maxK, l.k * l.k * Math.max(l.cin, l.cout));
      maxKernel = Math.max(maxKernel, l.size);
    }
    this.scratch = inst.alloc(CHUNK * maxK);
    if (this.training) {
      this.targetPtr = inst.alloc(cap * this.dataDim);
      this.flipPtr = inst.alloc(maxKernel);
      this.gradScratch = [inst.alloc(maxRow), inst.alloc(maxRow)];
    }
    const labels = new Int32Array(cap);
    labels.set(this.rowLabels.subarray(0, Math.min(cap, this.rowLabels.length)));
    this.rowLabels = labels;
    this.capacity = cap;
  }

  /** Sets the classes of rows [0, n) from labels[from …] (the null class K without labels); nothing for an unconditional network. */
  setLabels(labels: ArrayLike<number> | undefined, n: number, from = 0): void {
    if (this.shape.classes > 0) writeLabels(this.rowLabels, labels, n, from, this.shape.classes, 'fused U-Net');
  }

  /** Writes rows [0, n) of the input: images xt[from …] and the time embedding of t (one t or one per row). */
  setInput(xt: Float32Array, t: Float32Array | number, n: number, from = 0): void {
    const D = this.dataDim;
    this.inst.f32.set(xt.subarray(from * D, (from + n) * D), this.xBuf.ptr / 4);
    this.embedding.write(this.inst.f32, this.embBuf.ptr / 4, t, n, from);
  }

  /** Runs the tape on rows [0, n); returns the byte pointer of the output [n, H, W, C]. */
  forward(n: number): number {
    const k = this.inst.k;
    const act = this.actCode;
    for (const o of this.tape) {
      switch (o.op) {
        case 'dense': {
          const p = this.layers[o.layer];
          k.gemmNN(o.x.ptr, p.w, o.y.ptr, n, p.cin, p.cout, p.b);
          break;
        }
        case 'conv': {
          const p = this.layers[o.layer];
          k.convForward(o.x.ptr, p.w, p.b, o.y.ptr, n, o.x.h, o.x.w, p.cin, p.cout, p.k, this.scratch, CHUNK);
          break;
        }
        case 'act': {
          const count = n * o.x.h * o.x.w * o.x.ch;
          this.inst.f32.copyWithin(o.y.ptr / 4, o.x.ptr / 4, o.x.ptr / 4 + count);
          k.actForward(o.y.ptr, o.y.aux, pad4(count), act);
          break;
        }
        case 'addTime':
          k.addTime(o.h.ptr, o.p.ptr, n, o.h.h * o.h.w, o.h.ch);
          break;
        case 'addClass':
          gatherAddRows(this.inst.f32, o.h.ptr, this.classPtr, this.rowLabels, n, o.h.ch);
          break;
        case 'add':
          k.addInto(o.h.ptr, o.skip.ptr, n * o.h.h * o.h.w * o.h.ch);
          break;
        case 'concat':
          k.concatChannels(o.a.ptr, o.a.ch, o.b.ptr, o.b.ch, o.y.ptr, n * o.y.h * o.y.w);
          break;
        case 'down':
          k.avgPool2(o.x.ptr, o.y.ptr, n, o.x.h, o.x.w, o.x.ch);
          break;
        case 'up':
          k.upsample2(o.x.ptr, o.y.ptr, n, o.x.h, o.x.w, o.x.ch);
          break;
      }
    }
    return this.outBuf.ptr;
  }

  /**
   * MSE of the output of the last {@link forward} (n rows) against the target, and the whole
   * backward pass: ∂L/∂θ into the gradient block. Returns the loss.
   */
  backward(n: number): number {
    if (!this.training) throw new Error('internal: backward on an inference network');
    const k = this.inst.k;
    const gOff = this.gradPtr - this.paramPtr;
    for (const b of this.bufs) b.gradSet = false;
    const out = this.outBuf;
    const loss = k.mseGrad(out.ptr, this.targetPtr, out.grad, n * this.dataDim);
    out.gradSet = true;
    const rows = (b: Buf) => n * b.h * b.w * b.ch;
    /** Adds a contribution to b's gradient: `write` fills a buffer, which is b.grad itself the first time. */
    const into = (b: Buf, write: (dst: number) => void, spare = this.gradScratch[0]) => {
      if (!b.needsGrad) return;
      if (!b.gradSet) {
        write(b.grad);
        b.gradSet = true;
      } else {
        write(spare);
        k.addInto(b.grad, spare, rows(b));
      }
    };
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const o = this.tape[i];
      switch (o.op) {
        case 'dense': {
          const p = this.layers[o.layer];
          k.gemmTN(o.x.ptr, o.y.grad, p.w + gOff, p.cin, n, p.cout);
          k.colSum(o.y.grad, p.b + gOff, n, p.cout);
          into(o.x, (dst) => k.gemmNT(o.y.grad, p.w, dst, n, p.cout, p.cin));
          break;
        }
        case 'conv': {
          const p = this.layers[o.layer];
          const { h, w } = o.x;
          k.convFilterGrad(o.x.ptr, o.y.grad, p.w + gOff, n, h, w, p.cin, p.cout, p.k, this.scratch, CHUNK);
          k.colSum(o.y.grad, p.b + gOff, n * h * w, p.cout);
          into(o.x, (dst) => {
            k.flipKernel(p.w, this.flipPtr, p.k, p.cin, p.cout);
            k.convForward(o.y.grad, this.flipPtr, 0, dst, n, h, w, p.cout, p.cin, p.k, this.scratch, CHUNK);
          });
          break;
        }
        case 'act':
          into(o.x, (dst) => {
            const count = rows(o.y);
            this.inst.f32.copyWithin(dst / 4, o.y.grad / 4, o.y.grad / 4 + count);
            k.actBackward(dst, o.y.ptr, o.y.aux, pad4(count), this.actCode);
          });
          break;
        case 'addTime': {
          // ∂L/∂p[n, c] = Σ over the pixels of image n; ∂L/∂h passes through (h is updated in place)
          const hw = o.h.h * o.h.w;
          const ch = o.h.ch;
          into(o.p, (dst) => {
            for (let r = 0; r < n; r++) k.colSum(o.h.grad + r * hw * ch * 4, dst + r * ch * 4, hw, ch);
          });
          break;
        }
        case 'addClass':
          // ∂L/∂C: the pre-activation's gradient scattered into its rows' classes; ∂L/∂h passes through
          scatterAddRows(this.inst.f32, this.classPtr + gOff, this.shape.classes + 1, o.h.grad, this.rowLabels, n, o.h.ch);
          break;
        case 'add':
          into(o.skip, (dst) => this.inst.f32.copyWithin(dst / 4, o.h.grad / 4, o.h.grad / 4 + rows(o.h)));
          break;
        case 'concat': {
          const [s0, s1] = this.gradScratch;
          const da = o.a.gradSet ? s0 : o.a.grad;
          const db = o.b.gradSet ? s1 : o.b.grad;
          k.splitChannels(o.y.grad, da, o.a.ch, db, o.b.ch, n * o.y.h * o.y.w);
          if (o.a.gradSet) k.addInto(o.a.grad, s0, rows(o.a));
          if (o.b.gradSet) k.addInto(o.b.grad, s1, rows(o.b));
          o.a.gradSet = true;
          o.b.gradSet = true;
          break;
        }
        case 'down':
          into(o.x, (dst) => k.avgPool2Grad(o.y.grad, dst, n, o.x.h, o.x.w, o.x.ch));
          break;
        case 'up':
          into(o.x, (dst) => k.upsample2Grad(o.y.grad, dst, n, o.x.h, o.x.w, o.x.ch));
          break;
      }
    }
    return loss;
  }
}
