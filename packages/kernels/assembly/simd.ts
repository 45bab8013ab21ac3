// Four-lane float helpers shared by the kernels: multiply-add, horizontal sum, e^x and erf.
//
// Constants live pre-splatted in a static table and are read with v128.load, never written as
// f32x4.splat(literal): V8 rebuilds a literal v128 with three instructions at every use inside a
// loop (a 64-bit move, a move to xmm, an unpack), which cost SiLU about a third of its time. A load
// from the table is one instruction, usually folded into the arithmetic. Results are bit-identical.

/**
 * a·b + c on four lanes: one fused multiply-add where the module is built with relaxed SIMD, a
 * multiply and an add otherwise (the default build: its rounding matches tfjs's and is what the
 * exact-resume tests pin).
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Lane 0 + lane 1 + lane 2 + lane 3, in that order (the order the dot-product kernels rely on). */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** Byte offsets into {@link K}: one splatted constant each. */
const K_LO = 0, K_HI = 16, K_LOG2E = 32, K_MAGIC = 48, K_LN2_HI = 64, K_LN2_LO = 80;
const K_P0 = 96, K_P1 = 112, K_P2 = 128, K_P3 = 144, K_P4 = 160, K_P5 = 176;
const K_ERF_P = 272, K_ERF_A5 = 288, K_ERF_A4 = 304, K_ERF_A3 = 320, K_ERF_A2 = 336, K_ERF_A1 = 352;
/** Offsets of the constants the activations use directly. */
export const K_ONE = 192, K_EXP_BIAS = 208, K_SIGN = 224, K_ABS = 240, K_HALF = 256, K_TWO = 368, K_SQRT1_2 = 384, K_INV_SQRT_2PI = 400, K_MINUS_HALF = 416, K_ZERO = 432;

// prettier-ignore
const K = memory.data<u32>([
  0xc2700000, 0xc2700000, 0xc2700000, 0xc2700000, // −60 (K_LO)
  0x42700000, 0x42700000, 0x42700000, 0x42700000, // 60
  0x3fb8aa3b, 0x3fb8aa3b, 0x3fb8aa3b, 0x3fb8aa3b, // log2 e
  0x4b400000, 0x4b400000, 0x4b400000, 0x4b400000, // 1.5·2²³ (round to integer)
  0x3f318000, 0x3f318000, 0x3f318000, 0x3f318000, // ln 2, high part 0.693359375
  0xb95e8083, 0xb95e8083, 0xb95e8083, 0xb95e8083, // ln 2, low part −2.12194440e-4
  0x39506967, 0x39506967, 0x39506967, 0x39506967, // Cephes expf polynomial p0 … p5
  0x3ab743ce, 0x3ab743ce, 0x3ab743ce, 0x3ab743ce,
  0x3c088908, 0x3c088908, 0x3c088908, 0x3c088908,
  0x3d2aa9c1, 0x3d2aa9c1, 0x3d2aa9c1, 0x3d2aa9c1,
  0x3e2aaaaa, 0x3e2aaaaa, 0x3e2aaaaa, 0x3e2aaaaa,
  0x3f000000, 0x3f000000, 0x3f000000, 0x3f000000,
  0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, // 1 (K_ONE)
  0x0000007f, 0x0000007f, 0x0000007f, 0x0000007f, // 127, the exponent bias (i32)
  0x80000000, 0x80000000, 0x80000000, 0x80000000, // sign bit
  0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, // all but the sign bit
  0x3f000000, 0x3f000000, 0x3f000000, 0x3f000000, // 0.5
  0x3ea7ba05, 0x3ea7ba05, 0x3ea7ba05, 0x3ea7ba05, // A&S 7.1.26: p = 0.3275911
  0x3f87dc22, 0x3f87dc22, 0x3f87dc22, 0x3f87dc22, // a5 = 1.061405429
  0xbfba00e3, 0xbfba00e3, 0xbfba00e3, 0xbfba00e3, // a4 = −1.453152027
  0x3fb5f0e3, 0x3fb5f0e3, 0x3fb5f0e3, 0x3fb5f0e3, // a3 = 1.421413741
  0xbe91a98e, 0xbe91a98e, 0xbe91a98e, 0xbe91a98e, // a2 = −0.284496736
  0x3e827906, 0x3e827906, 0x3e827906, 0x3e827906, // a1 = 0.254829592
  0x40000000, 0x40000000, 0x40000000, 0x40000000, // 2
  0x3f3504f3, 0x3f3504f3, 0x3f3504f3, 0x3f3504f3, // 1/√2
  0x3ecc422a, 0x3ecc422a, 0x3ecc422a, 0x3ecc422a, // 1/√(2π)
  0xbf000000, 0xbf000000, 0xbf000000, 0xbf000000, // −0.5
  0x00000000, 0x00000000, 0x00000000, 0x00000000, // 0
], 16);

/** The splatted constant at byte offset `off` of the table. */
// @ts-ignore: decorator
@inline export function kv(off: usize): v128 {
  return v128.load(K + off);
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
@inline export function vexp(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, kv(K_LO)), kv(K_HI));
  const magic = kv(K_MAGIC);
  const tb = f32x4.add(f32x4.mul(x, kv(K_LOG2E)), magic); // n in the low mantissa bits
  const n = f32x4.sub(tb, magic);
  let r = f32x4.sub(x, f32x4.mul(n, kv(K_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, kv(K_LN2_LO)));
  let p = kv(K_P0);
  p = f32x4.add(f32x4.mul(p, r), kv(K_P1));
  p = f32x4.add(f32x4.mul(p, r), kv(K_P2));
  p = f32x4.add(f32x4.mul(p, r), kv(K_P3));
  p = f32x4.add(f32x4.mul(p, r), kv(K_P4));
  p = f32x4.add(f32x4.mul(p, r), kv(K_P5));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), kv(K_ONE));
  // 2ⁿ: (n + 127) into the exponent field; the shift drops tb's high bits
  const e = i32x4.shl(i32x4.add(tb, kv(K_EXP_BIAS)), 23);
  return f32x4.mul(y, e);
}

/** −x on four lanes: a sign flip, one xor (V8 builds f32x4.neg's mask anew at every use). */
// @ts-ignore: decorator
@inline export function vneg(x: v128): v128 {
  return v128.xor(x, kv(K_SIGN));
}

/** erf on four lanes with the formula tfjs uses (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7). */
// @ts-ignore: decorator
@inline export function verf(x: v128): v128 {
  const one = kv(K_ONE);
  const ax = v128.and(x, kv(K_ABS));
  const t = f32x4.div(one, f32x4.add(one, f32x4.mul(kv(K_ERF_P), ax)));
  let p = kv(K_ERF_A5);
  p = f32x4.add(f32x4.mul(p, t), kv(K_ERF_A4));
  p = f32x4.add(f32x4.mul(p, t), kv(K_ERF_A3));
  p = f32x4.add(f32x4.mul(p, t), kv(K_ERF_A2));
  p = f32x4.add(f32x4.mul(p, t), kv(K_ERF_A1));
  p = f32x4.mul(p, t);
  const y = f32x4.sub(one, f32x4.mul(p, vexp(vneg(f32x4.mul(ax, ax)))));
  // copy the sign of x onto y
  return v128.or(v128.and(y, kv(K_ABS)), v128.and(x, kv(K_SIGN)));
}
