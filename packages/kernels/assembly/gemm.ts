// Matrix multiplies for the kernels: one register-blocked 4×8 micro-kernel ({@link tile4x8})
// drives the forward product (gemmNN) and the weight gradient (gemmTN), and is written so a
// convolution lowered to a matrix product (im2col, or implicit GEMM with a pointer per row) can
// call it too: it takes four row pointers and byte strides for A and B, so A may be row-major
// (stride 4 along k), column-major (gemmTN: stride one row along k) or gathered, and B may be the
// caller's row-major matrix or 8-column panels packed contiguously.
//
// Every output element is its start value (bias or 0) plus a[·,0]·b[0,·] + a[·,1]·b[1,·] + … in
// order k = 0, 1, …, one rounding per multiply and per add, exactly as the kernels before it, so
// results are bit-identical to them (and the exact-resume tests hold).
//
// Speed (one thread, CPU time, 2-core AMD EPYC under load; packages/kernels/bench/gemm.mjs):
// the 4×8 tile issues 8 multiplies and 8 adds per k step, so it is bound by the two
// 128-bit multiply ports (8 multiply-adds a cycle without fused multiply-add). Walking four row
// pointers instead of recomputing a + k·4 per row took the 128-wide products from ≈ 22 to ≈ 25
// GMAC/s. Packing B into contiguous 8-column panels pays off once B leaves the L1 cache and there
// are enough row blocks to reuse a panel (e.g. 2304×288·288×32: 23 → 25; 256×512·512×512: 23 → 25),
// and costs a little for the seed's 32- and 64-row products, so {@link packs} decides.
import { hsum, madd } from './simd';

/** Floats of static scratch for packed B panels (256 KiB): K up to 8192 packs at least one panel. */
const SCRATCH_FLOATS: i32 = 65536;
/** The packing scratch, in the module's static data: below heapBase(), so the host never allocates over it. */
const scratch = memory.data(SCRATCH_FLOATS << 2, 16);

/**
 * C[4, 8] = init + A[4, K]·B[K, 8] for one 4-row × 8-column tile.
 * Row r of A starts at a_r and advances aStep bytes per k; B's 8 values for step k start at
 * b + k·bStep (bStep = 32 for a packed panel, the row length for a row-major B). C's rows are
 * rowC bytes apart. Eight accumulators, two B vectors and one splatted A value stay in registers
 * (12 of x86's 16 xmm registers with the product temporary; 5×8 and 6×8 tiles measured slower in V8,
 * and so did unrolling k by 2 or 4).
 */
// @ts-ignore: decorator
@inline export function tile4x8(a0: usize, a1: usize, a2: usize, a3: usize, aStep: usize, b: usize, bStep: usize, K: i32, c: usize, rowC: usize, init0: v128, init1: v128): void {
  let s00 = init0, s01 = init1, s10 = init0, s11 = init1, s20 = init0, s21 = init1, s30 = init0, s31 = init1;
  let bp = b;
  for (let k = 0; k < K; k++) {
    const w0 = v128.load(bp), w1 = v128.load(bp, 16);
    let x = v128.load32_splat(a0);
    s00 = madd(x, w0, s00); s01 = madd(x, w1, s01);
    x = v128.load32_splat(a1);
    s10 = madd(x, w0, s10); s11 = madd(x, w1, s11);
    x = v128.load32_splat(a2);
    s20 = madd(x, w0, s20); s21 = madd(x, w1, s21);
    x = v128.load32_splat(a3);
    s30 = madd(x, w0, s30); s31 = madd(x, w1, s31);
    a0 += aStep; a1 += aStep; a2 += aStep; a3 += aStep;
    bp += bStep;
  }
  v128.store(c, s00); v128.store(c, s01, 16);
  c += rowC;
  v128.store(c, s10); v128.store(c, s11, 16);
  c += rowC;
  v128.store(c, s20); v128.store(c, s21, 16);
  c += rowC;
  v128.store(c, s30); v128.store(c, s31, 16);
}

/**
 * Copies columns [j0, j0 + 8·panels) of B (K rows, rowB bytes apart) into `panels` contiguous
 * 8-column panels at out: panel p holds B[k, j0 + 8p … j0 + 8p + 7] for k = 0 … K−1, 32 bytes a step.
 */
// @ts-ignore: decorator
@inline export function packPanels8(b: usize, rowB: usize, K: i32, j0: i32, panels: i32, out: usize): void {
  let o = out;
  for (let p = 0; p < panels; p++) {
    let bp = b + (<usize>(j0 + 8 * p) << 2);
    for (let k = 0; k < K; k++) {
      v128.store(o, v128.load(bp));
      v128.store(o, v128.load(bp, 16), 16);
      o += 32;
      bp += rowB;
    }
  }
}

/**
 * Whether to pack B for an M-row product over K×N8: only when B is past the L1 cache (≥ 32 KiB),
 * there are ≥ 32 row blocks to reuse each panel, and one panel fits the scratch.
 */
// @ts-ignore: decorator
@inline function packs(M: i32, K: i32, N8: i32): bool {
  return M >= 128 && K * N8 >= 8192 && 8 * K <= SCRATCH_FLOATS;
}

/**
 * The full 4-row × 8-column blocks of C (rows below M4, columns below N8), A's row r at
 * a + r·rowStride advancing aStep bytes per k; B row-major with rowB bytes per k.
 * When {@link packs} says so, B is packed a group of panels at a time (as many as fit the
 * scratch) and every row block runs over the group; otherwise the one "group" is all of B in
 * place. One call site of tile4x8 keeps each caller small: V8 runs a function in its baseline
 * tier until the optimising compile finishes, and two inlined copies made that visibly longer.
 */
// @ts-ignore: decorator
@inline function blocks(a: usize, rowStride: usize, aStep: usize, b: usize, rowB: usize, c: usize, M4: i32, K: i32, N8: i32, bias: usize): void {
  const rowC = rowB;
  const zero = f32x4.splat(0);
  const pack = packs(M4, K, N8);
  const panelBytes: usize = pack ? <usize>K << 5 : 32;
  const bStep: usize = pack ? 32 : rowB;
  const group = pack ? min(N8 >> 3, SCRATCH_FLOATS / (8 * K)) : N8 >> 3;
  for (let j0 = 0; j0 < N8; j0 += 8 * group) {
    const g = min(group, (N8 - j0) >> 3);
    if (pack) packPanels8(b, rowB, K, j0, g, scratch);
    const panels = pack ? scratch : b + (<usize>j0 << 2);
    for (let i = 0; i < M4; i += 4) {
      const a0 = a + <usize>i * rowStride;
      const c0 = c + <usize>i * rowC;
      for (let p = 0; p < g; p++) {
        const jo = <usize>(j0 + 8 * p) << 2;
        const i0 = bias ? v128.load(bias + jo) : zero, i1 = bias ? v128.load(bias + jo, 16) : zero;
        tile4x8(a0, a0 + rowStride, a0 + 2 * rowStride, a0 + 3 * rowStride, aStep, panels + <usize>p * panelBytes, bStep, K, c0 + jo, rowC, i0, i1);
      }
    }
  }
}

/** C[M,N] = A[M,K]·B[K,N] + bias[N] (bias = 0 pointer: none). The forward product of a dense layer. */
export function gemmNN(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, bias: usize): void {
  const N8 = N & ~7;
  const N4 = N & ~3;
  const rowA = <usize>K << 2;
  const rowB = <usize>N << 2;
  let i = M & ~3;
  blocks(a, rowA, 4, b, rowB, c, i, K, N8, bias);
  // remaining rows, 8-column blocks
  for (; i < M; i++) {
    const a0 = a + <usize>i * rowA;
    const c0 = c + <usize>i * rowB;
    for (let j = 0; j < N8; j += 8) {
      const jo = <usize>j << 2;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
      if (bias) { s0 = v128.load(bias + jo); s1 = v128.load(bias + jo, 16); }
      let bp = b + jo;
      for (let k = 0; k < K; k++) {
        const x = v128.load32_splat(a0 + (<usize>k << 2));
        s0 = f32x4.add(s0, f32x4.mul(x, v128.load(bp)));
        s1 = f32x4.add(s1, f32x4.mul(x, v128.load(bp, 16)));
        bp += rowB;
      }
      v128.store(c0 + jo, s0); v128.store(c0 + jo, s1, 16);
    }
  }
  // remaining columns (N not a multiple of 8), all rows
  if (N8 < N) {
    for (let r = 0; r < M; r++) {
      const a0 = a + <usize>r * rowA;
      const c0 = c + <usize>r * rowB;
      let j = N8;
      for (; j < N4; j += 4) {
        const jo = <usize>j << 2;
        let s = bias ? v128.load(bias + jo) : f32x4.splat(0);
        let bp = b + jo;
        for (let k = 0; k < K; k++) {
          s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(a0 + (<usize>k << 2))), v128.load(bp)));
          bp += rowB;
        }
        v128.store(c0 + jo, s);
      }
      for (; j < N; j++) {
        const jo = <usize>j << 2;
        // narrow output (e.g. the final Linear(128→1)): vectorise the dot product over K instead
        let acc = f32x4.splat(0);
        let k = 0;
        if (N == 1) {
          for (; k + 4 <= K; k += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(a0 + (<usize>k << 2)), v128.load(b + (<usize>k << 2))));
        }
        let s: f32 = hsum(acc);
        for (; k < K; k++) s += load<f32>(a0 + (<usize>k << 2)) * load<f32>(b + <usize>k * rowB + jo);
        if (bias) s += load<f32>(bias + jo);
        store<f32>(c0 + jo, s);
      }
    }
  }
}


/** C[M,N] = A[M,K]·B[N,K]ᵀ (dot products of rows of A with rows of B). */
export function gemmNT(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32): void {
  const K4 = K & ~3;
  const rowA = <usize>K << 2;
  const rowC = <usize>N << 2;
  if (K < 4) {
    // narrow K (the backward of Linear(128→1)): C[i, :] = Σ_k A[i,k]·B[:, k], vectorised over N
    for (let i = 0; i < M; i++) {
      const c0 = c + <usize>i * rowC;
      const a0 = a + <usize>i * rowA;
      let j = 0;
      if (K == 1) {
        const x = f32x4.splat(load<f32>(a0));
        for (; j + 4 <= N; j += 4) v128.store(c0 + (<usize>j << 2), f32x4.mul(x, v128.load(b + (<usize>j << 2))));
      }
      for (; j < N; j++) {
        let s: f32 = 0;
        for (let k = 0; k < K; k++) s += load<f32>(a0 + (<usize>k << 2)) * load<f32>(b + <usize>j * rowA + (<usize>k << 2));
        store<f32>(c0 + (<usize>j << 2), s);
      }
    }
    return;
  }
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = a + <usize>i * rowA;
    const a1 = a0 + rowA, a2 = a1 + rowA, a3 = a2 + rowA;
    const c0 = c + <usize>i * rowC;
    let j = 0;
    for (; j + 2 <= N; j += 2) {
      const b0 = b + <usize>j * rowA;
      const b1 = b0 + rowA;
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s10 = f32x4.splat(0), s11 = f32x4.splat(0);
      let s20 = f32x4.splat(0), s21 = f32x4.splat(0), s30 = f32x4.splat(0), s31 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const ko = <usize>k << 2;
        const w0 = v128.load(b0 + ko), w1 = v128.load(b1 + ko);
        let x = v128.load(a0 + ko);
        s00 = madd(x, w0, s00); s01 = madd(x, w1, s01);
        x = v128.load(a1 + ko);
        s10 = madd(x, w0, s10); s11 = madd(x, w1, s11);
        x = v128.load(a2 + ko);
        s20 = madd(x, w0, s20); s21 = madd(x, w1, s21);
        x = v128.load(a3 + ko);
        s30 = madd(x, w0, s30); s31 = madd(x, w1, s31);
      }
      let r00 = hsum(s00), r01 = hsum(s01), r10 = hsum(s10), r11 = hsum(s11);
      let r20 = hsum(s20), r21 = hsum(s21), r30 = hsum(s30), r31 = hsum(s31);
      for (let k = K4; k < K; k++) {
        const ko = <usize>k << 2;
        const w0 = load<f32>(b0 + ko), w1 = load<f32>(b1 + ko);
        const x0 = load<f32>(a0 + ko), x1 = load<f32>(a1 + ko), x2 = load<f32>(a2 + ko), x3 = load<f32>(a3 + ko);
        r00 += x0 * w0; r01 += x0 * w1; r10 += x1 * w0; r11 += x1 * w1;
        r20 += x2 * w0; r21 += x2 * w1; r30 += x3 * w0; r31 += x3 * w1;
      }
      const jo = <usize>j << 2;
      store<f32>(c0 + jo, r00); store<f32>(c0 + jo, r01, 4);
      store<f32>(c0 + rowC + jo, r10); store<f32>(c0 + rowC + jo, r11, 4);
      store<f32>(c0 + 2 * rowC + jo, r20); store<f32>(c0 + 2 * rowC + jo, r21, 4);
      store<f32>(c0 + 3 * rowC + jo, r30); store<f32>(c0 + 3 * rowC + jo, r31, 4);
    }
    for (; j < N; j++) {
      for (let r = 0; r < 4; r++) store<f32>(c0 + <usize>r * rowC + (<usize>j << 2), dotRow(a0 + <usize>r * rowA, b + <usize>j * rowA, K));
    }
  }
  for (; i < M; i++) {
    const a0 = a + <usize>i * rowA;
    const c0 = c + <usize>i * rowC;
    for (let j = 0; j < N; j++) store<f32>(c0 + (<usize>j << 2), dotRow(a0, b + <usize>j * rowA, K));
  }
}

// @ts-ignore: decorator
@inline function dotRow(x: usize, y: usize, K: i32): f32 {
  let acc = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(x + (<usize>k << 2)), v128.load(y + (<usize>k << 2))));
  let s = hsum(acc);
  for (; k < K; k++) s += load<f32>(x + (<usize>k << 2)) * load<f32>(y + (<usize>k << 2));
  return s;
}


/** C[M,N] = A[K,M]ᵀ·B[K,N] (weight gradients: dW = Xᵀ·dY with K the batch). */
export function gemmTN(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32): void {
  const N8 = N & ~7;
  const rowA = <usize>M << 2;
  const rowB = <usize>N << 2;
  let i = M & ~3;
  // rows of C are columns of A: four adjacent floats of one A row, the next k one A row further
  blocks(a, 4, rowA, b, rowB, c, i, K, N8, 0);
  for (; i < M; i++) {
    const c0 = c + <usize>i * rowB;
    const io = <usize>i << 2;
    for (let j = 0; j < N8; j += 8) {
      const jo = <usize>j << 2;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
      for (let k = 0; k < K; k++) {
        const x = f32x4.splat(load<f32>(a + <usize>k * rowA + io));
        const bp = b + <usize>k * rowB + jo;
        s0 = f32x4.add(s0, f32x4.mul(x, v128.load(bp)));
        s1 = f32x4.add(s1, f32x4.mul(x, v128.load(bp, 16)));
      }
      v128.store(c0 + jo, s0); v128.store(c0 + jo, s1, 16);
    }
  }
  if (N8 < N) {
    if (N == 1) {
      // C[:, 0] = Σ_k A[k, :]·B[k]: vectorised over M
      let m = 0;
      for (; m + 4 <= M; m += 4) {
        let s = f32x4.splat(0);
        for (let k = 0; k < K; k++) s = f32x4.add(s, f32x4.mul(v128.load(a + <usize>k * rowA + (<usize>m << 2)), f32x4.splat(load<f32>(b + (<usize>k << 2)))));
        v128.store(c + (<usize>m << 2), s);
      }
      for (; m < M; m++) {
        let s: f32 = 0;
        for (let k = 0; k < K; k++) s += load<f32>(a + <usize>k * rowA + (<usize>m << 2)) * load<f32>(b + (<usize>k << 2));
        store<f32>(c + (<usize>m << 2), s);
      }
    } else {
      for (let m = 0; m < M; m++) {
        for (let j = N8; j < N; j++) {
          let s: f32 = 0;
          for (let k = 0; k < K; k++) s += load<f32>(a + <usize>k * rowA + (<usize>m << 2)) * load<f32>(b + <usize>k * rowB + (<usize>j << 2));
          store<f32>(c + <usize>m * rowB + (<usize>j << 2), s);
        }
      }
    }
  }
}

