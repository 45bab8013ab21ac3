// Fused MLP kernels in AssemblyScript, compiled to WebAssembly with 128-bit SIMD.
//
// All matrices are row-major float32 in linear memory; the JS side (src/wasm.ts) owns the layout
// and passes byte pointers. Dense kernels are Keras-layout W[in, out], so a forward pass is
// Y[n, out] = X[n, in]·W + b. Three GEMM shapes cover forward and backward:
//   gemmNN  C = A·B (+ bias)      forward,               vectorised over columns of B
//   gemmNT  C = A·Bᵀ              dX = dY·Wᵀ,            vectorised dot products over K
//   gemmTN  C = Aᵀ·B              dW = Xᵀ·dY,            vectorised over columns of B
// The register blocks (4 rows × 8 columns) keep eight accumulators live so each loaded W vector
// feeds four multiply-adds, which is what makes a 128-wide hidden layer run near peak.

// ---------------------------------------------------------------------------------------------
// helpers

/** Exported so the host can place its buffers after the module's own static data. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * a·b + c on four lanes: one fused multiply-add where the module is built with relaxed SIMD
 * (mlp-relaxed variant), a multiply and an add otherwise.
 */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * e^x on four lanes (Cephes expf: range reduction by ln 2, degree-6 polynomial, rel. error ~1e-7).
 * pmin/pmax and the 1.5·2²³ rounding trick keep it to single x86 instructions (wasm's min/max and
 * trunc_sat need NaN fix-ups that V8 expands into several).
 *
 * x is clamped to [−60, 60]: every activation here uses e^x only through 1 + e^x, x·σ or 1 − p·e^x,
 * where the clamp changes results by less than 1e-25 absolute, but it keeps σ(z) ≥ 8.8e-27 for
 * very negative z (large raw t drives many units there). Without it σ and x·σ reach subnormal
 * floats (σ(−88) ≈ 4.5e-39), which x86 multiplies tens of times slower: sampling with T = 1000
 * ran about 3× slower than with T = 100.
 */
// @ts-ignore: decorator
@inline function vexp(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-60.0)), f32x4.splat(60.0));
  const magic = f32x4.splat(12582912.0);
  const tb = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), magic); // n in the low mantissa bits
  const n = f32x4.sub(tb, magic);
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1.0));
  // 2ⁿ: (n + 127) into the exponent field; the shift drops tb's high bits
  const e = i32x4.shl(i32x4.add(tb, i32x4.splat(127)), 23);
  return f32x4.mul(y, e);
}

/** erf on four lanes with the formula tfjs uses (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7). */
// @ts-ignore: decorator
@inline function verf(x: v128): v128 {
  const ax = f32x4.abs(x);
  const t = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), f32x4.mul(f32x4.splat(0.3275911), ax)));
  let p = f32x4.splat(1.061405429);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.453152027));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.421413741));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.284496736));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.254829592));
  p = f32x4.mul(p, t);
  const y = f32x4.sub(f32x4.splat(1.0), f32x4.mul(p, vexp(f32x4.neg(f32x4.mul(ax, ax)))));
  // copy the sign of x onto y
  return v128.or(v128.and(y, i32x4.splat(0x7fffffff)), v128.and(x, i32x4.splat(0x80000000)));
}

// ---------------------------------------------------------------------------------------------
// GEMM kernels (byte pointers; sizes in elements)

/** C[M,N] = A[M,K]·B[K,N] + bias[N] (bias = 0 pointer: none). */
export function gemmNN(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, bias: usize): void {
  const N8 = N & ~7;
  const N4 = N & ~3;
  const rowA = <usize>K << 2;
  const rowB = <usize>N << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = a + <usize>i * rowA;
    const a1 = a0 + rowA, a2 = a1 + rowA, a3 = a2 + rowA;
    const c0 = c + <usize>i * rowB;
    const c1 = c0 + rowB, c2 = c1 + rowB, c3 = c2 + rowB;
    let j = 0;
    for (; j < N8; j += 8) {
      const jo = <usize>j << 2;
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s10 = f32x4.splat(0), s11 = f32x4.splat(0);
      let s20 = f32x4.splat(0), s21 = f32x4.splat(0), s30 = f32x4.splat(0), s31 = f32x4.splat(0);
      if (bias) {
        s00 = v128.load(bias + jo); s01 = v128.load(bias + jo, 16);
        s10 = s00; s11 = s01; s20 = s00; s21 = s01; s30 = s00; s31 = s01;
      }
      let bp = b + jo;
      for (let k = 0; k < K; k++) {
        const ko = <usize>k << 2;
        const w0 = v128.load(bp), w1 = v128.load(bp, 16);
        let x = v128.load32_splat(a0 + ko);
        s00 = madd(x, w0, s00); s01 = madd(x, w1, s01);
        x = v128.load32_splat(a1 + ko);
        s10 = madd(x, w0, s10); s11 = madd(x, w1, s11);
        x = v128.load32_splat(a2 + ko);
        s20 = madd(x, w0, s20); s21 = madd(x, w1, s21);
        x = v128.load32_splat(a3 + ko);
        s30 = madd(x, w0, s30); s31 = madd(x, w1, s31);
        bp += rowB;
      }
      v128.store(c0 + jo, s00); v128.store(c0 + jo, s01, 16);
      v128.store(c1 + jo, s10); v128.store(c1 + jo, s11, 16);
      v128.store(c2 + jo, s20); v128.store(c2 + jo, s21, 16);
      v128.store(c3 + jo, s30); v128.store(c3 + jo, s31, 16);
    }
  }
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
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const c0 = c + <usize>i * rowB;
    const io = <usize>i << 2;
    for (let j = 0; j < N8; j += 8) {
      const jo = <usize>j << 2;
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s10 = f32x4.splat(0), s11 = f32x4.splat(0);
      let s20 = f32x4.splat(0), s21 = f32x4.splat(0), s30 = f32x4.splat(0), s31 = f32x4.splat(0);
      let ap = a + io;
      let bp = b + jo;
      for (let k = 0; k < K; k++) {
        const w0 = v128.load(bp), w1 = v128.load(bp, 16);
        let x = v128.load32_splat(ap);
        s00 = madd(x, w0, s00); s01 = madd(x, w1, s01);
        x = v128.load32_splat(ap, 4);
        s10 = madd(x, w0, s10); s11 = madd(x, w1, s11);
        x = v128.load32_splat(ap, 8);
        s20 = madd(x, w0, s20); s21 = madd(x, w1, s21);
        x = v128.load32_splat(ap, 12);
        s30 = madd(x, w0, s30); s31 = madd(x, w1, s31);
        ap += rowA;
        bp += rowB;
      }
      v128.store(c0 + jo, s00); v128.store(c0 + jo, s01, 16);
      v128.store(c0 + rowB + jo, s10); v128.store(c0 + rowB + jo, s11, 16);
      v128.store(c0 + 2 * rowB + jo, s20); v128.store(c0 + 2 * rowB + jo, s21, 16);
      v128.store(c0 + 3 * rowB + jo, s30); v128.store(c0 + 3 * rowB + jo, s31, 16);
    }
  }
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

/** out[N] = Σ_rows X[M, N] (bias gradients). */
export function colSum(x: usize, out: usize, M: i32, N: i32): void {
  const N4 = N & ~3;
  const row = <usize>N << 2;
  for (let j = 0; j < N4; j += 4) {
    const jo = <usize>j << 2;
    let s = f32x4.splat(0);
    for (let i = 0; i < M; i++) s = f32x4.add(s, v128.load(x + <usize>i * row + jo));
    v128.store(out + jo, s);
  }
  for (let j = N4; j < N; j++) {
    let s: f32 = 0;
    for (let i = 0; i < M; i++) s += load<f32>(x + <usize>i * row + (<usize>j << 2));
    store<f32>(out + (<usize>j << 2), s);
  }
}

// ---------------------------------------------------------------------------------------------
// activations. Forward: z (pre-activation, in place) → a, keeping what backward needs in `aux`.
// kind: 0 silu, 1 relu, 2 tanh, 3 gelu (exact erf form, as tfjs-layers). count must be a multiple
// of 4 (the host pads buffers).

/** a = act(z) in place over `count` floats; aux receives σ(z) (silu), z (gelu) or nothing. */
export function actForward(z: usize, aux: usize, count: i32, kind: i32): void {
  const one = f32x4.splat(1.0);
  for (let o: usize = 0; o < (<usize>count << 2); o += 16) {
    const x = v128.load(z + o);
    let y: v128;
    if (kind == 0) {
      const s = f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
      if (aux) v128.store(aux + o, s);
      y = f32x4.mul(x, s);
    } else if (kind == 1) {
      y = f32x4.pmax(x, f32x4.splat(0));
    } else if (kind == 2) {
      // tanh(x) = 1 − 2/(e^{2x} + 1)
      y = f32x4.sub(one, f32x4.div(f32x4.splat(2.0), f32x4.add(vexp(f32x4.add(x, x)), one)));
    } else {
      if (aux) v128.store(aux + o, x);
      y = f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), f32x4.add(one, verf(f32x4.mul(x, f32x4.splat(0.7071067811865476)))));
    }
    v128.store(z + o, y);
  }
}

/** d (∂L/∂a, in place) → ∂L/∂z given a (the activation output) and aux from actForward. */
export function actBackward(d: usize, a: usize, aux: usize, count: i32, kind: i32): void {
  const one = f32x4.splat(1.0);
  for (let o: usize = 0; o < (<usize>count << 2); o += 16) {
    const g = v128.load(d + o);
    const y = v128.load(a + o);
    let r: v128;
    if (kind == 0) {
      // silu'(z) = σ + z·σ(1−σ) = σ + a(1−σ)
      const s = v128.load(aux + o);
      r = f32x4.mul(g, f32x4.add(s, f32x4.mul(y, f32x4.sub(one, s))));
    } else if (kind == 1) {
      r = v128.and(g, f32x4.gt(y, f32x4.splat(0)));
    } else if (kind == 2) {
      r = f32x4.mul(g, f32x4.sub(one, f32x4.mul(y, y)));
    } else {
      // gelu'(z) = Φ(z) + z·φ(z), with Φ through the same erf as the forward
      const x = v128.load(aux + o);
      const cdf = f32x4.mul(f32x4.splat(0.5), f32x4.add(one, verf(f32x4.mul(x, f32x4.splat(0.7071067811865476)))));
      const pdf = f32x4.mul(f32x4.splat(0.3989422804014327), vexp(f32x4.mul(f32x4.splat(-0.5), f32x4.mul(x, x))));
      r = f32x4.mul(g, madd(x, pdf, cdf));
    }
    v128.store(d + o, r);
  }
}

// ---------------------------------------------------------------------------------------------
// loss and optimiser

/**
 * MSE over `count` values: writes ∂L/∂pred = 2(pred − target)/count into grad and returns
 * Σ(pred − target)²/count.
 */
export function mseGrad(pred: usize, target: usize, grad: usize, count: i32): f32 {
  let s: f32 = 0;
  const scale: f32 = 2.0 / <f32>count;
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 2;
    const e = load<f32>(pred + o) - load<f32>(target + o);
    s += e * e;
    store<f32>(grad + o, scale * e);
  }
  return s / <f32>count;
}

/**
 * One Adam step over `count` parameters (a multiple of 4), the same arithmetic as tf.train.adam:
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p·decayFactor − lr·(m/bc1)/(√(v/bc2) + ε)
 * (Kingma & Ba 2015, Alg. 1; decayFactor = 1 − lr·λ is AdamW's decoupled decay; gradScale
 * multiplies g first, for global-norm clipping).
 */
export function adam(p: usize, g: usize, m: usize, v: usize, count: i32, lr: f32, b1: f32, b2: f32, eps: f32, bc1: f32, bc2: f32, decayFactor: f32, gradScale: f32): void {
  const vgs = f32x4.splat(gradScale);
  const vb1 = f32x4.splat(b1), vb1c = f32x4.splat(1 - b1);
  const vb2 = f32x4.splat(b2), vb2c = f32x4.splat(1 - b2);
  const ibc1 = f32x4.splat(1 / bc1), ibc2 = f32x4.splat(1 / bc2);
  const veps = f32x4.splat(eps), vlr = f32x4.splat(lr), vdec = f32x4.splat(decayFactor);
  const decay = decayFactor != 1;
  for (let o: usize = 0; o < (<usize>count << 2); o += 16) {
    const gr = f32x4.mul(v128.load(g + o), vgs);
    const mm = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vb1c, gr));
    const vv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(f32x4.mul(vb2c, gr), gr));
    v128.store(m + o, mm);
    v128.store(v + o, vv);
    let pp = v128.load(p + o);
    if (decay) pp = f32x4.mul(pp, vdec);
    const upd = f32x4.div(f32x4.mul(mm, ibc1), f32x4.add(f32x4.sqrt(f32x4.mul(vv, ibc2)), veps));
    v128.store(p + o, f32x4.sub(pp, f32x4.mul(vlr, upd)));
  }
}

/** Σ x² over `count` floats (a multiple of 4): the squared global gradient norm for clipping. */
export function sumSquares(x: usize, count: i32): f32 {
  let acc = f32x4.splat(0);
  for (let o: usize = 0; o < (<usize>count << 2); o += 16) {
    const v = v128.load(x + o);
    acc = madd(v, v, acc);
  }
  return hsum(acc);
}
