/**
 * Loads the fused MLP kernels (assembly/mlp.ts, embedded as base64) and manages one instance's
 * linear memory. Each trainer or predictor gets its own instance, so their buffers never alias.
 */
import { DiffusionLabError } from '@diffusionlab/core';
import { MLP_WASM_BASE64 } from './generated/mlp-wasm.js';

/** The most linear memory one kernel instance can have: wasm32 addresses 65 536 pages of 64 KiB (4 GiB). */
export const KERNEL_MAX_BYTES = 65536 * 65536;

/**
 * A fused kernel would need more than {@link KERNEL_MAX_BYTES}. Trainers and predictors that hit it
 * while being built decline (the tfjs path runs instead); during a step it ends the run with this message.
 */
export class KernelMemoryError extends DiffusionLabError {
  constructor(bytes: number) {
    super(`the fused WebAssembly kernel needs ${(bytes / 2 ** 30).toFixed(2)} GiB of memory, over its ${KERNEL_MAX_BYTES / 2 ** 30} GiB limit`, {
      code: 'KERNEL_MEMORY',
      hint: 'lower training.batchSize or evaluation.batchSize, use a smaller model, or set training.accelerate: false to use tfjs',
    });
  }
}

/** Throws {@link KernelMemoryError} when an instance would need more than {@link KERNEL_MAX_BYTES}. */
export function checkKernelBytes(bytes: number): void {
  if (bytes > KERNEL_MAX_BYTES) throw new KernelMemoryError(bytes);
}

/** Runs `build`, turning a {@link KernelMemoryError} into the decline reason callers fall back on. */
export function declineIfTooBig<T>(build: () => T | string): T | string {
  try {
    return build();
  } catch (e) {
    if (e instanceof KernelMemoryError) return e.message;
    throw e;
  }
}

// The WebAssembly JS API, typed locally: it is global in Node and browsers, but TypeScript only
// declares it in the DOM lib, which a Node package should not pull in.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
type WasmModule = object;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The raw exports of the kernel module (byte pointers, sizes in elements). */
export interface MlpKernelExports {
  memory: WasmMemory;
  heapBase(): number;
  gemmNN(a: number, b: number, c: number, M: number, K: number, N: number, bias: number): void;
  gemmNT(a: number, b: number, c: number, M: number, K: number, N: number): void;
  gemmTN(a: number, b: number, c: number, M: number, K: number, N: number): void;
  colSum(x: number, out: number, M: number, N: number): void;
  actForward(z: number, aux: number, count: number, kind: number): void;
  actBackward(d: number, a: number, aux: number, count: number, kind: number): void;
  mseGrad(pred: number, target: number, grad: number, count: number): number;
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    count: number,
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    bc1: number,
    bc2: number,
    decayFactor: number,
    gradScale: number,
  ): void;
  sumSquares(x: number, count: number): number;
  // convolution-network primitives (assembly/conv.ts), NHWC
  im2col(x: number, cols: number, H: number, W: number, C: number, k: number, p0: number, P: number): void;
  convForward(x: number, w: number, bias: number, y: number, N: number, H: number, W: number, cin: number, cout: number, k: number, scratch: number, chunk: number): void;
  convFilterGrad(x: number, dy: number, dw: number, N: number, H: number, W: number, cin: number, cout: number, k: number, scratch: number, chunk: number): void;
  flipKernel(w: number, out: number, k: number, cin: number, cout: number): void;
  tnAccumulate(a: number, rowA: number, b: number, rowB: number, c: number, M: number, K: number, N: number): void;
  addInto(dst: number, src: number, count: number): void;
  addTime(h: number, t: number, N: number, HW: number, C: number): void;
  avgPool2(x: number, y: number, N: number, H: number, W: number, C: number): void;
  avgPool2Grad(dy: number, dx: number, N: number, H: number, W: number, C: number): void;
  upsample2(x: number, y: number, N: number, H: number, W: number, C: number): void;
  upsample2Grad(dy: number, dx: number, N: number, H: number, W: number, C: number): void;
  concatChannels(a: number, ca: number, b: number, cb: number, y: number, P: number): void;
  splitChannels(dy: number, da: number, ca: number, db: number, cb: number, P: number): void;
}

let compiled: WasmModule | null = null;

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The compiled module (compiled once per process; about 11 KB, so synchronous compilation is allowed everywhere). */
export function kernelModule(): WasmModule {
  if (!compiled) compiled = new wasm.Module(decodeBase64(MLP_WASM_BASE64));
  return compiled;
}

/** True where the runtime validates 128-bit SIMD WebAssembly (Node ≥ 16, current browsers). */
export function simdSupported(): boolean {
  try {
    kernelModule();
    return true;
  } catch {
    return false;
  }
}

/** Rounds a float count up to a multiple of 4 (one v128), so every buffer is 16-byte aligned. */
export function pad4(n: number): number {
  // Arithmetic, not `(n + 3) & ~3`: bitwise ops wrap at 2³¹, which made huge models alias small buffers.
  return Math.ceil(n / 4) * 4;
}

/**
 * One kernel instance plus a bump allocator over its memory. Buffers are float32 regions named by
 * byte offset; `f32` is refreshed whenever memory grows (growing detaches the old ArrayBuffer).
 */
export class KernelInstance {
  readonly k: MlpKernelExports;
  f32: Float32Array;
  private top: number;

  constructor() {
    const inst = new wasm.Instance(kernelModule(), {
      env: {
        abort: () => {
          throw new Error('wasm abort');
        },
      },
    });
    this.k = inst.exports as unknown as MlpKernelExports;
    this.top = (this.k.heapBase() + 15) & ~15;
    this.f32 = new Float32Array(this.k.memory.buffer);
  }

  /** Current allocation mark, to reset to with {@link release}. */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated after `mark`. */
  release(mark: number): void {
    this.top = mark;
  }

  /** Allocates `floats` (padded to 4) zeroed float32s and returns the byte pointer. */
  alloc(floats: number): number {
    const ptr = this.top;
    const bytes = pad4(floats) * 4;
    checkKernelBytes(this.top + bytes);
    this.top += bytes;
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need > 0) {
      this.k.memory.grow(Math.ceil(need / 65536));
      this.f32 = new Float32Array(this.k.memory.buffer);
    }
    this.f32.fill(0, ptr / 4, (ptr + bytes) / 4);
    return ptr;
  }

  /** A float32 view of `floats` elements at byte pointer `ptr` (valid until the next grow). */
  view(ptr: number, floats: number): Float32Array {
    return this.f32.subarray(ptr / 4, ptr / 4 + floats);
  }
}
