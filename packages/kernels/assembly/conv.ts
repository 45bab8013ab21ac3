// Convolution-network primitives for the fused U-Net (NHWC, float32, byte pointers): stride-1
// 'same' convolutions lowered to matrix products by im2col (Chellapilla, Puri & Simard 2006,
// "High Performance Convolutional Neural Networks for Document Processing"), their filter
// gradient as a transposed product accumulated over pixel chunks, and the cheap layers around
// them (2×2 average pooling, nearest 2× upsampling, channel concatenation, the broadcast add of a
// per-image time projection), each with its gradient.
//
// Pixels are numbered p = (n·H + h)·W + w over the whole batch, so an im2col chunk may span
// images. A 'same' k×k convolution is Y[p, :] = bias + Σ_{ky,kx,ci} X[p + (ky−r, kx−r), ci]·
// Wt[ky, kx, ci, :] (r = k >> 1, zero outside the image): row p of the im2col matrix holds the
// k·k·cᵢₙ inputs in (ky, kx, ci) order, which is exactly the row order of the Keras kernel
// [k, k, cᵢₙ, c_out] read as a [k·k·cᵢₙ, c_out] matrix, so the product needs no weight reshuffle.
//
// The input gradient of that convolution is the same convolution of ∂L/∂Y with the kernel
// rotated by 180° and its channel axes swapped (flipKernel), so forward and both backward
// products all run on the 4×8 register-blocked micro-kernel of gemm.ts.
import { gemmNN } from './gemm';
import { madd } from './simd';

/**
 * Writes im2col rows for pixels [p0, p0 + P) of x [N, H, W, C] into cols [P, k·k·C]: per
 * (pixel, ky) one copy of the in-image run of k·C floats (adjacent pixels are adjacent in NHWC)
 * and zeros for the part that falls outside the image.
 */
export function im2col(x: usize, cols: usize, H: i32, W: i32, C: i32, k: i32, p0: i32, P: i32): void {
  const r = k >> 1;
  const px: usize = <usize>C << 2;
  const HW = H * W;
  let out = cols;
  for (let p = p0; p < p0 + P; p++) {
    const n = p / HW;
    const q = p - n * HW;
    const h = q / W;
    const w = q - h * W;
    const img = x + <usize>(n * HW) * px;
    // in-image kx range [kx0, kx1)
    const kx0 = max(0, r - w);
    const kx1 = min(k, W - w + r);
    for (let ky = 0; ky < k; ky++) {
      const hh = h + ky - r;
      if (hh < 0 || hh >= H || kx1 <= kx0) {
        memory.fill(out, 0, <usize>k * px);
      } else {
        if (kx0 > 0) memory.fill(out, 0, <usize>kx0 * px);
        memory.copy(out + <usize>kx0 * px, img + <usize>(hh * W + w + kx0 - r) * px, <usize>(kx1 - kx0) * px);
        if (kx1 < k) memory.fill(out + <usize>kx1 * px, 0, <usize>(k - kx1) * px);
      }
      out += <usize>k * px;
    }
  }
}

/**
 * y [N·H·W, cout] = bias + conv(x [N, H, W, cin], w [k, k, cin, cout]) for an odd k, stride 1,
 * 'same' zero padding (bias = 0: none). k = 1 is one product over x itself; larger k goes
 * through im2col `chunk` pixels at a time into `scratch` (chunk·k·k·cin floats), which keeps
 * the lowered matrix in the L2 cache instead of materialising all N·H·W rows.
 */
export function convForward(x: usize, w: usize, bias: usize, y: usize, N: i32, H: i32, W: i32, cin: i32, cout: i32, k: i32, scratch: usize, chunk: i32): void {
  const P = N * H * W;
  if (k == 1) {
    gemmNN(x, w, y, P, cin, cout, bias);
    return;
  }
  const K = k * k * cin;
  for (let p0 = 0; p0 < P; p0 += chunk) {
    const rows = min(chunk, P - p0);
    im2col(x, scratch, H, W, cin, k, p0, rows);
    gemmNN(scratch, w, y + (<usize>p0 * <usize>cout << 2), rows, K, cout, bias);
  }
}

/**
 * out [k, k, cout, cin] = w [k, k, cin, cout] rotated by 180° with the channel axes swapped:
 * the kernel whose 'same' convolution of ∂L/∂Y is ∂L/∂X (for k = 1, the transpose).
 */
export function flipKernel(w: usize, out: usize, k: i32, cin: i32, cout: i32): void {
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      const src = w + (<usize>(((k - 1 - ky) * k + (k - 1 - kx)) * cin * cout) << 2);
      const dst = out + (<usize>((ky * k + kx) * cout * cin) << 2);
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) store<f32>(dst + (<usize>(co * cin + ci) << 2), load<f32>(src + (<usize>(ci * cout + co) << 2)));
      }
    }
  }
}

/**
 * C[M, N] += A[K, M]ᵀ·B[K, N], A's rows rowA bytes apart and B's rowB bytes apart (C row-major,
 * N wide): the filter gradient of one pixel chunk, with A the chunk's im2col rows (or the input
 * itself for k = 1) and B its rows of ∂L/∂Y. 4×8 tiles of C stay in registers over the chunk;
 * each element's sum runs in pixel order, so chunking does not change the result.
 */
export function tnAccumulate(a: usize, rowA: usize, b: usize, rowB: usize, c: usize, M: i32, K: i32, N: i32): void {
  const M4 = M & ~3;
  const N8 = N & ~7;
  const N4 = N & ~3;
  const rowC: usize = <usize>N << 2;
  for (let i = 0; i < M4; i += 4) {
    const c0 = c + <usize>i * rowC;
    for (let j = 0; j < N8; j += 8) {
      const cj = c0 + (<usize>j << 2);
      let s00 = v128.load(cj), s01 = v128.load(cj, 16);
      let s10 = v128.load(cj + rowC), s11 = v128.load(cj + rowC, 16);
      let s20 = v128.load(cj + 2 * rowC), s21 = v128.load(cj + 2 * rowC, 16);
      let s30 = v128.load(cj + 3 * rowC), s31 = v128.load(cj + 3 * rowC, 16);
      let ap = a + (<usize>i << 2);
      let bp = b + (<usize>j << 2);
      for (let kk = 0; kk < K; kk++) {
        const w0 = v128.load(bp), w1 = v128.load(bp, 16);
        let x = v128.load32_splat(ap);
        s00 = madd(x, w0, s00); s01 = madd(x, w1, s01);
        x = v128.load32_splat(ap + 4);
        s10 = madd(x, w0, s10); s11 = madd(x, w1, s11);
        x = v128.load32_splat(ap + 8);
        s20 = madd(x, w0, s20); s21 = madd(x, w1, s21);
        x = v128.load32_splat(ap + 12);
        s30 = madd(x, w0, s30); s31 = madd(x, w1, s31);
        ap += rowA;
        bp += rowB;
      }
      v128.store(cj, s00); v128.store(cj, s01, 16);
      v128.store(cj + rowC, s10); v128.store(cj + rowC, s11, 16);
      v128.store(cj + 2 * rowC, s20); v128.store(cj + 2 * rowC, s21, 16);
      v128.store(cj + 3 * rowC, s30); v128.store(cj + 3 * rowC, s31, 16);
    }
    // columns past the last 8-block: vectorised over the four rows of C
    for (let j = N8; j < N; j++) {
      let s = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(c0 + (<usize>j << 2))), 1, load<f32>(c0 + rowC + (<usize>j << 2))), 2, load<f32>(c0 + 2 * rowC + (<usize>j << 2))), 3, load<f32>(c0 + 3 * rowC + (<usize>j << 2)));
      let ap = a + (<usize>i << 2);
      let bp = b + (<usize>j << 2);
      for (let kk = 0; kk < K; kk++) {
        s = madd(v128.load(ap), v128.load32_splat(bp), s);
        ap += rowA;
        bp += rowB;
      }
      store<f32>(c0 + (<usize>j << 2), f32x4.extract_lane(s, 0));
      store<f32>(c0 + rowC + (<usize>j << 2), f32x4.extract_lane(s, 1));
      store<f32>(c0 + 2 * rowC + (<usize>j << 2), f32x4.extract_lane(s, 2));
      store<f32>(c0 + 3 * rowC + (<usize>j << 2), f32x4.extract_lane(s, 3));
    }
  }
  // rows past the last 4-block: vectorised over columns
  for (let i = M4; i < M; i++) {
    const c0 = c + <usize>i * rowC;
    let j = 0;
    for (; j < N4; j += 4) {
      let s = v128.load(c0 + (<usize>j << 2));
      let ap = a + (<usize>i << 2);
      let bp = b + (<usize>j << 2);
      for (let kk = 0; kk < K; kk++) {
        s = madd(v128.load32_splat(ap), v128.load(bp), s);
        ap += rowA;
        bp += rowB;
      }
      v128.store(c0 + (<usize>j << 2), s);
    }
    for (; j < N; j++) {
      let s = load<f32>(c0 + (<usize>j << 2));
      for (let kk = 0; kk < K; kk++) s += load<f32>(a + <usize>kk * rowA + (<usize>i << 2)) * load<f32>(b + <usize>kk * rowB + (<usize>j << 2));
      store<f32>(c0 + (<usize>j << 2), s);
    }
  }
}

/**
 * dw [k, k, cin, cout] = Σ_p im2col(x)[p, :]ᵀ·dy[p, :], the filter gradient of {@link convForward}
 * (overwrites dw). Chunks of `chunk` pixels are lowered into `scratch` as in the forward pass.
 */
export function convFilterGrad(x: usize, dy: usize, dw: usize, N: i32, H: i32, W: i32, cin: i32, cout: i32, k: i32, scratch: usize, chunk: i32): void {
  const P = N * H * W;
  const K = k * k * cin;
  memory.fill(dw, 0, <usize>(K * cout) << 2);
  const rowB: usize = <usize>cout << 2;
  for (let p0 = 0; p0 < P; p0 += chunk) {
    const rows = min(chunk, P - p0);
    const dyc = dy + <usize>p0 * rowB;
    if (k == 1) tnAccumulate(x + (<usize>p0 * <usize>cin << 2), <usize>cin << 2, dyc, rowB, dw, cin, rows, cout);
    else {
      im2col(x, scratch, H, W, cin, k, p0, rows);
      tnAccumulate(scratch, <usize>K << 2, dyc, rowB, dw, K, rows, cout);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// the cheap layers. Channel loops run four lanes at a time with a scalar tail (C need not be a
// multiple of 4).

/** dst[0, count) += src[0, count). */
export function addInto(dst: usize, src: usize, count: i32): void {
  const end = dst + (<usize>count << 2);
  let d = dst, s = src;
  for (; d + 16 <= end; d += 16, s += 16) v128.store(d, f32x4.add(v128.load(d), v128.load(s)));
  for (; d < end; d += 4, s += 4) store<f32>(d, load<f32>(d) + load<f32>(s));
}

/** h[n, pixel, c] += t[n, c] for every pixel of each of the N images (HW pixels, C channels). */
export function addTime(h: usize, t: usize, N: i32, HW: i32, C: i32): void {
  const px: usize = <usize>C << 2;
  let o = h;
  for (let n = 0; n < N; n++) {
    const tn = t + <usize>n * px;
    for (let p = 0; p < HW; p++) {
      addInto(o, tn, C);
      o += px;
    }
  }
}

/**
 * y [N, H/2, W/2, C] = the mean of each 2×2 window of x [N, H, W, C], summed in row order and
 * then scaled by 1/4 (as tfjs's avgPool: exact, since 1/4 is a power of two).
 */
export function avgPool2(x: usize, y: usize, N: i32, H: i32, W: i32, C: i32): void {
  const px: usize = <usize>C << 2;
  const row: usize = <usize>W * px;
  const quarter = f32x4.splat(0.25);
  let o = y;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < H; i += 2) {
      for (let j = 0; j < W; j += 2) {
        const a = x + (<usize>((n * H + i) * W + j)) * px;
        let c: usize = 0;
        for (; c + 16 <= px; c += 16) {
          const s = f32x4.add(f32x4.add(f32x4.add(v128.load(a + c), v128.load(a + px + c)), v128.load(a + row + c)), v128.load(a + row + px + c));
          v128.store(o + c, f32x4.mul(s, quarter));
        }
        for (; c < px; c += 4) store<f32>(o + c, (load<f32>(a + c) + load<f32>(a + px + c) + load<f32>(a + row + c) + load<f32>(a + row + px + c)) * 0.25);
        o += px;
      }
    }
  }
}

/** dx [N, H, W, C] = dy [N, H/2, W/2, C] / 4 spread over each 2×2 window (overwrites dx). */
export function avgPool2Grad(dy: usize, dx: usize, N: i32, H: i32, W: i32, C: i32): void {
  const px: usize = <usize>C << 2;
  const row: usize = <usize>W * px;
  const quarter = f32x4.splat(0.25);
  let g = dy;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < H; i += 2) {
      for (let j = 0; j < W; j += 2) {
        const a = dx + (<usize>((n * H + i) * W + j)) * px;
        let c: usize = 0;
        for (; c + 16 <= px; c += 16) {
          const v = f32x4.mul(v128.load(g + c), quarter);
          v128.store(a + c, v); v128.store(a + px + c, v); v128.store(a + row + c, v); v128.store(a + row + px + c, v);
        }
        for (; c < px; c += 4) {
          const v = load<f32>(g + c) * 0.25;
          store<f32>(a + c, v); store<f32>(a + px + c, v); store<f32>(a + row + c, v); store<f32>(a + row + px + c, v);
        }
        g += px;
      }
    }
  }
}

/** y [N, 2H, 2W, C] = nearest-neighbour 2× upsampling of x [N, H, W, C] (each pixel to a 2×2 block). */
export function upsample2(x: usize, y: usize, N: i32, H: i32, W: i32, C: i32): void {
  const px: usize = <usize>C << 2;
  const outRow: usize = <usize>(2 * W) * px;
  let s = x;
  let o = y;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < H; i++) {
      const rowStart = o;
      for (let j = 0; j < W; j++) {
        memory.copy(o, s, px);
        memory.copy(o + px, s, px);
        o += 2 * px;
        s += px;
      }
      memory.copy(o, rowStart, outRow);
      o += outRow;
    }
  }
}

/** dx [N, H, W, C] = the sum of each 2×2 block of dy [N, 2H, 2W, C] (overwrites dx). */
export function upsample2Grad(dy: usize, dx: usize, N: i32, H: i32, W: i32, C: i32): void {
  const px: usize = <usize>C << 2;
  const row: usize = <usize>(2 * W) * px;
  let o = dx;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const a = dy + (<usize>((n * 2 * H + 2 * i) * 2 * W + 2 * j)) * px;
        let c: usize = 0;
        for (; c + 16 <= px; c += 16) {
          v128.store(o + c, f32x4.add(f32x4.add(f32x4.add(v128.load(a + c), v128.load(a + px + c)), v128.load(a + row + c)), v128.load(a + row + px + c)));
        }
        for (; c < px; c += 4) store<f32>(o + c, load<f32>(a + c) + load<f32>(a + px + c) + load<f32>(a + row + c) + load<f32>(a + row + px + c));
        o += px;
      }
    }
  }
}

/** y [P, ca + cb] = [a [P, ca] | b [P, cb]] per pixel (concatenation on channels). */
export function concatChannels(a: usize, ca: i32, b: usize, cb: i32, y: usize, P: i32): void {
  const pa: usize = <usize>ca << 2, pb: usize = <usize>cb << 2;
  let o = y, sa = a, sb = b;
  for (let p = 0; p < P; p++) {
    memory.copy(o, sa, pa);
    memory.copy(o + pa, sb, pb);
    o += pa + pb;
    sa += pa;
    sb += pb;
  }
}

/** The gradient of {@link concatChannels}: da [P, ca] and db [P, cb] from dy [P, ca + cb] (overwrites both). */
export function splitChannels(dy: usize, da: usize, ca: i32, db: usize, cb: i32, P: i32): void {
  const pa: usize = <usize>ca << 2, pb: usize = <usize>cb << 2;
  let s = dy, oa = da, ob = db;
  for (let p = 0; p < P; p++) {
    memory.copy(oa, s, pa);
    memory.copy(ob, s + pa, pb);
    s += pa + pb;
    oa += pa;
    ob += pb;
  }
}
