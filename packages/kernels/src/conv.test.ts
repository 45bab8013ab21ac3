// The convolution-network primitives (assembly/conv.ts) against tfjs-core's cpu ops and their
// autodiff gradients, an independent implementation: conv2d 'same' forward, ∂/∂x (through the
// flipped kernel) and ∂/∂w (im2col chunks accumulated), 2×2 average pooling, nearest 2×
// upsampling, channel concatenation and the broadcast time add, each forward and backward, on
// shapes that hit the 4×8 tiles, their leftover rows and columns, c_out = 1, k = 1, and chunks
// that split an image.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { KernelInstance } from './wasm.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Deterministic values in [−1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** max |got − want| / max |want|: float32 sums of ≤ a few hundred terms stay well under 1e-5. */
function relErr(got: Float32Array, want: Float32Array | Int32Array | Uint8Array): number {
  expect(got.length).toBe(want.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < got.length; i++) {
    num = Math.max(num, Math.abs(got[i] - want[i]));
    den = Math.max(den, Math.abs(want[i]));
  }
  return num / Math.max(den, 1e-30);
}

/** Copies data into a fresh kernel buffer and returns its pointer. */
function put(inst: KernelInstance, data: Float32Array): number {
  const p = inst.alloc(data.length);
  inst.view(p, data.length).set(data);
  return p;
}

const read = (inst: KernelInstance, ptr: number, n: number) => inst.view(ptr, n).slice();

describe('convolution primitives', () => {
  // [N, H, W, cin, cout, k, chunk]
  const cases: [number, number, number, number, number, number, number][] = [
    [2, 5, 6, 3, 10, 3, 64],
    [1, 4, 4, 1, 8, 3, 7],
    [3, 7, 7, 16, 8, 3, 20],
    [2, 6, 6, 5, 1, 3, 1000],
    [2, 4, 4, 6, 12, 1, 9],
    [1, 8, 8, 32, 32, 3, 50],
  ];
  for (const [N, H, W, cin, cout, k, chunk] of cases) {
    it(`conv ${k}×${k} [${N},${H},${W},${cin}]→${cout} (chunk ${chunk}): forward, ∂x and ∂w match tfjs`, () => {
      const inst = new KernelInstance();
      const P = N * H * W;
      const xs = values(P * cin, 1 + cin);
      const ws = values(k * k * cin * cout, 2 + cout);
      const bs = values(cout, 3);
      const dys = values(P * cout, 4 + k);
      const x = tf.tensor4d(xs, [N, H, W, cin]);
      const w = tf.tensor4d(ws, [k, k, cin, cout]);
      const dy = tf.tensor4d(dys, [N, H, W, cout]);
      const want = tf.add(tf.conv2d(x, w, 1, 'same'), tf.tensor1d(bs));
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))([x, w], dy);

      const px = put(inst, xs);
      const pw = put(inst, ws);
      const pb = put(inst, bs);
      const pdy = put(inst, dys);
      const py = inst.alloc(P * cout);
      const scratch = inst.alloc(chunk * k * k * Math.max(cin, cout));
      inst.k.convForward(px, pw, pb, py, N, H, W, cin, cout, k, scratch, chunk);
      expect(relErr(read(inst, py, P * cout), want.dataSync() as Float32Array)).toBeLessThan(1e-5);

      // ∂x: the same convolution of ∂y with the flipped kernel, no bias
      const pwf = inst.alloc(k * k * cin * cout);
      inst.k.flipKernel(pw, pwf, k, cin, cout);
      const pdx = inst.alloc(P * cin);
      inst.k.convForward(pdy, pwf, 0, pdx, N, H, W, cout, cin, k, scratch, chunk);
      expect(relErr(read(inst, pdx, P * cin), gx.dataSync() as Float32Array)).toBeLessThan(1e-5);

      const pdw = put(inst, values(k * k * cin * cout, 99)); // garbage first: the kernel overwrites
      inst.k.convFilterGrad(px, pdy, pdw, N, H, W, cin, cout, k, scratch, chunk);
      expect(relErr(read(inst, pdw, k * k * cin * cout), gw.dataSync() as Float32Array)).toBeLessThan(1e-5);
      tf.dispose([x, w, dy, want, gx, gw]);
    });
  }

  it('a wrong kernel layout is caught (the check can fail)', () => {
    const inst = new KernelInstance();
    const [N, H, W, cin, cout, k] = [1, 4, 4, 2, 8, 3];
    const xs = values(N * H * W * cin, 5);
    const ws = values(k * k * cin * cout, 6);
    const want = tf.tidy(() => tf.conv2d(tf.tensor4d(xs, [N, H, W, cin]), tf.tensor4d(ws, [k, k, cin, cout]), 1, 'same').dataSync() as Float32Array);
    const pw = put(inst, ws);
    const pwf = inst.alloc(ws.length);
    inst.k.flipKernel(pw, pwf, k, cin, cout); // rotated weights in the forward: wrong on purpose
    const py = inst.alloc(N * H * W * cout);
    inst.k.convForward(put(inst, xs), pwf, 0, py, N, H, W, cin, cout, k, inst.alloc(64 * k * k * cin), 64);
    expect(relErr(read(inst, py, want.length), want)).toBeGreaterThan(0.1);
  });

  for (const [N, H, W, C] of [
    [2, 4, 6, 3],
    [3, 14, 14, 8],
    [1, 2, 2, 5],
  ] as [number, number, number, number][]) {
    it(`2×2 avg-pool and nearest 2× upsampling of [${N},${H},${W},${C}] match tfjs, with gradients`, () => {
      const inst = new KernelInstance();
      const n = N * H * W * C;
      const xs = values(n, 7 + C);
      const x = tf.tensor4d(xs, [N, H, W, C]);
      const px = put(inst, xs);

      const pool = (a: tf.Tensor) => tf.avgPool(a as tf.Tensor4D, 2, 2, 'valid');
      const pooled = pool(x);
      const py = inst.alloc(n / 4);
      inst.k.avgPool2(px, py, N, H, W, C);
      expect(relErr(read(inst, py, n / 4), pooled.dataSync() as Float32Array)).toBeLessThan(1e-6);
      const dys = values(n / 4, 8);
      const gPool = tf.grad(pool)(x, tf.tensor4d(dys, pooled.shape as [number, number, number, number]));
      const pdx = inst.alloc(n);
      inst.k.avgPool2Grad(put(inst, dys), pdx, N, H, W, C);
      expect(relErr(read(inst, pdx, n), gPool.dataSync() as Float32Array)).toBeLessThan(1e-6);

      const up = (a: tf.Tensor) => tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [(a.shape[1] as number) * 2, (a.shape[2] as number) * 2]);
      const upped = up(x);
      const pu = inst.alloc(4 * n);
      inst.k.upsample2(px, pu, N, H, W, C);
      expect(relErr(read(inst, pu, 4 * n), upped.dataSync() as Float32Array)).toBe(0);
      // The gradient is checked on image 0 against tfjs (tfjs-backend-cpu 4.22's
      // ResizeNearestNeighborGrad offsets dy by the *input's* batch stride, so images 1… read the
      // wrong rows) and on every image against the 2×2 block sums written out here.
      const dus = values(4 * n, 9);
      const gUp = tf.grad(up)(x, tf.tensor4d(dus, upped.shape as [number, number, number, number]));
      const pdu = inst.alloc(n);
      inst.k.upsample2Grad(put(inst, dus), pdu, N, H, W, C);
      const got = read(inst, pdu, n);
      const per = H * W * C;
      expect(relErr(got.subarray(0, per), (gUp.dataSync() as Float32Array).subarray(0, per))).toBeLessThan(1e-6);
      const want = new Float32Array(n);
      for (let b = 0; b < N; b++)
        for (let i = 0; i < 2 * H; i++)
          for (let j = 0; j < 2 * W; j++) for (let c = 0; c < C; c++) want[((b * H + (i >> 1)) * W + (j >> 1)) * C + c] += dus[((b * 2 * H + i) * 2 * W + j) * C + c];
      expect(relErr(got, want)).toBeLessThan(1e-6);
      tf.dispose([x, pooled, gPool, upped, gUp]);
    });
  }

  it('channel concatenation and its split match tf.concat', () => {
    const inst = new KernelInstance();
    const [P, ca, cb] = [37, 5, 8];
    const as = values(P * ca, 10);
    const bs = values(P * cb, 11);
    const want = tf.tidy(() => tf.concat([tf.tensor2d(as, [P, ca]), tf.tensor2d(bs, [P, cb])], 1).dataSync() as Float32Array);
    const py = inst.alloc(P * (ca + cb));
    inst.k.concatChannels(put(inst, as), ca, put(inst, bs), cb, py, P);
    expect(read(inst, py, want.length)).toEqual(want);
    const pa = inst.alloc(P * ca);
    const pb = inst.alloc(P * cb);
    inst.k.splitChannels(py, pa, ca, pb, cb, P);
    expect(read(inst, pa, P * ca)).toEqual(as);
    expect(read(inst, pb, P * cb)).toEqual(bs);
  });

  it('the broadcast time add matches tf.add, and its gradient is a per-image column sum', () => {
    const inst = new KernelInstance();
    const [N, HW, C] = [3, 10, 7];
    const hs = values(N * HW * C, 12);
    const ts = values(N * C, 13);
    const h = tf.tensor3d(hs, [N, HW, C]);
    const t = tf.tensor2d(ts, [N, C]);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.add(a, tf.reshape(b, [N, 1, C]));
    const want = f(h, t);
    const ph = put(inst, hs);
    inst.k.addTime(ph, put(inst, ts), N, HW, C);
    expect(relErr(read(inst, ph, N * HW * C), want.dataSync() as Float32Array)).toBe(0);
    const dys = values(N * HW * C, 14);
    const [, gt] = tf.grads(f)([h, t], tf.tensor3d(dys, [N, HW, C]));
    const pdy = put(inst, dys);
    const pdt = inst.alloc(N * C);
    for (let n = 0; n < N; n++) inst.k.colSum(pdy + n * HW * C * 4, pdt + n * C * 4, HW, C);
    expect(relErr(read(inst, pdt, N * C), gt.dataSync() as Float32Array)).toBeLessThan(1e-6);
    tf.dispose([h, t, want, gt]);
  });
});
