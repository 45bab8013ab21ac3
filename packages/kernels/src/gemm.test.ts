// The GEMM kernels (assembly/gemm.ts) against a float32 reference written out in JavaScript:
// every output is start + a·b + a·b + … in order k = 0, 1, …, each product and each sum rounded to
// float32 (Math.fround). gemmNN and gemmTN must match it bit for bit — that fixed order is what
// makes a resumed run repeat an uninterrupted one exactly — on every path: full 4×8 tiles, the
// leftover rows and columns, packed B panels (large M and B) and the unpacked fallback for a K too
// long for the packing scratch. Two narrow leftovers of gemmNN sum differently and are held to
// float32 rounding of the exact product instead: the last N mod 4 columns add the bias after the
// sum, and N = 1 (the output layer) runs its dot product over four lanes. gemmNT sums four lanes
// and then across them (lane k mod 4), so it too is checked within float32 rounding.
import { describe, expect, it } from 'vitest';
import { KernelInstance } from './wasm.js';

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

/** C = A·B (+ bias) in float32, k in order; A read as a(i, k), B as b(k, j). */
function reference(M: number, K: number, N: number, a: (i: number, k: number) => number, b: (k: number, j: number) => number, bias?: Float32Array): Float32Array {
  const f = Math.fround;
  const c = new Float32Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = bias ? bias[j] : 0;
      for (let k = 0; k < K; k++) s = f(s + f(a(i, k) * b(k, j)));
      c[i * N + j] = s;
    }
  }
  return c;
}

/** Indices where the two arrays differ in any bit (at most 5 listed), over the columns `col(j)` selects. */
function bitDiffs(x: Float32Array, y: Float32Array, N: number, col: (j: number) => boolean = () => true): number[] {
  const xi = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const yi = new Uint32Array(y.buffer, y.byteOffset, y.length);
  const out: number[] = [];
  for (let i = 0; i < x.length && out.length < 5; i++) if (col(i % N) && xi[i] !== yi[i]) out.push(i);
  return out;
}

/**
 * Checks c against the float64 product on the columns `col(j)` selects, to K + 1 float32
 * roundings of Σ|terms| (each of the K additions, and the bias, rounds once).
 */
function expectWithinRounding(
  c: Float32Array,
  M: number,
  K: number,
  N: number,
  a: (i: number, k: number) => number,
  b: (k: number, j: number) => number,
  bias?: Float32Array,
  col: (j: number) => boolean = () => true,
): void {
  const over: string[] = [];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      if (!col(j)) continue;
      let exact = bias ? bias[j] : 0;
      let scale = Math.abs(exact);
      for (let k = 0; k < K; k++) {
        exact += a(i, k) * b(k, j);
        scale += Math.abs(a(i, k) * b(k, j));
      }
      const err = Math.abs(c[i * N + j] - exact);
      if (!(err <= (K + 1) * 2 ** -24 * scale + 1e-30) && over.length < 5) over.push(`C[${i}, ${j}] = ${c[i * N + j]}, exact ${exact}`);
    }
  }
  expect(over).toEqual([]);
}

type Op = 'NN' | 'TN' | 'NT';

/** Runs one product in a fresh kernel instance; A is M×K (K×M for TN), B is K×N (N×K for NT). */
function run(op: Op, M: number, K: number, N: number, withBias: boolean) {
  const inst = new KernelInstance();
  const a = values(M * K, 1 + M);
  const b = values(K * N, 2 + N);
  const bias = withBias ? values(N, 3) : undefined;
  const pa = inst.alloc(M * K);
  const pb = inst.alloc(K * N);
  const pc = inst.alloc(M * N);
  const pbias = bias ? inst.alloc(N) : 0;
  inst.view(pa, M * K).set(a);
  inst.view(pb, K * N).set(b);
  if (bias) inst.view(pbias, N).set(bias);
  if (op === 'NN') inst.k.gemmNN(pa, pb, pc, M, K, N, pbias);
  else if (op === 'TN') inst.k.gemmTN(pa, pb, pc, M, K, N);
  else inst.k.gemmNT(pa, pb, pc, M, K, N);
  const c = inst.view(pc, M * N).slice();
  const aAt = op === 'TN' ? (i: number, k: number) => a[k * M + i] : (i: number, k: number) => a[i * K + k];
  const bAt = op === 'NT' ? (k: number, j: number) => b[j * K + k] : (k: number, j: number) => b[k * N + j];
  return { c, want: reference(M, K, N, aAt, bAt, bias), a: aAt, b: bAt, bias };
}

describe('gemmNN and gemmTN: the 4×8 micro-kernel', () => {
  // [M, K, N]: tiles only; leftover rows and columns; N = 1 (the output layer); K = 1, 2 (the
  // input layer); packed B (M ≥ 128 and K·N ≥ 8192), with a partial last group of panels
  // (K = 2000: 4 panels fit the scratch, N = 40 has 5); K too long to pack (8·K > 65536)
  const shapes: [number, number, number][] = [
    [4, 8, 8],
    [32, 128, 128],
    [7, 5, 13],
    [33, 128, 1],
    [64, 2, 128],
    [9, 1, 9],
    [130, 128, 128],
    [256, 288, 32],
    [128, 2000, 40],
    [133, 8200, 8],
  ];
  for (const [M, K, N] of shapes) {
    it(`NN ${M}×${K}·${K}×${N} with bias, and TN, bit-identical to the in-order float32 sum`, () => {
      const nn = run('NN', M, K, N, true);
      const inOrder = (j: number) => N > 1 && j < (N & ~3);
      expect(bitDiffs(nn.c, nn.want, N, inOrder)).toEqual([]);
      expectWithinRounding(nn.c, M, K, N, nn.a, nn.b, nn.bias, (j) => !inOrder(j));
      const tn = run('TN', M, K, N, false);
      expect(bitDiffs(tn.c, tn.want, N)).toEqual([]);
    });
  }

  it('NN without bias starts from zero', () => {
    const nn = run('NN', 130, 128, 24, false);
    expect(bitDiffs(nn.c, nn.want, 24)).toEqual([]);
  });
});

describe('gemmNT', () => {
  for (const [M, K, N] of [
    [32, 128, 128],
    [5, 7, 3],
    [2304, 32, 40],
    [6, 1, 9],
  ] as [number, number, number][]) {
    it(`${M}×${K}·(${N}×${K})ᵀ within float32 rounding of the exact product`, () => {
      const { c, a, b } = run('NT', M, K, N, false);
      expectWithinRounding(c, M, K, N, a, b);
    });
  }
});
