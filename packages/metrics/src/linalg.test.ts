import { Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { frechetDistance, matMul, meanAndCovariance, psdSqrt, symmetricEigen, traceSqrtProduct } from './linalg.js';

const diag = (v: number[]) => {
  const n = v.length;
  const m = new Float64Array(n * n);
  v.forEach((x, i) => {
    m[i * n + i] = x;
  });
  return m;
};
const transpose = (a: Float64Array, n: number) => {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j];
  return t;
};
/** An n×n rotation built from fixed Givens rotations on every pair (independent of the code under test). */
function rotation(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  let r = diag(new Array(n).fill(1));
  for (let p = 0; p < n; p++) {
    for (let q = p + 1; q < n; q++) {
      const th = 2 * Math.PI * rng.uniform();
      const g = diag(new Array(n).fill(1));
      g[p * n + p] = Math.cos(th);
      g[q * n + q] = Math.cos(th);
      g[p * n + q] = -Math.sin(th);
      g[q * n + p] = Math.sin(th);
      r = matMul(r, g, n);
    }
  }
  return r;
}
/** R·diag(v)·Rᵀ. */
const rotated = (r: Float64Array, v: number[]) => matMul(matMul(r, diag(v), v.length), transpose(r, v.length), v.length);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('symmetricEigen (cyclic Jacobi)', () => {
  it('finds the known eigenvalues of the second-difference matrix, 2 − 2cos(kπ/(n+1))', () => {
    const n = 12;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
    }
    const { values, sweeps } = symmetricEigen(a, n);
    const expected = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))).sort((x, y) => x - y);
    expect(
      maxAbsDiff(
        [...values].sort((x, y) => x - y),
        expected,
      ),
    ).toBeLessThan(1e-13);
    expect(sweeps).toBeLessThan(15);
  });

  it('gives orthonormal eigenvectors that rebuild a random symmetric matrix (n = 40), without touching the input', () => {
    const n = 40;
    const rng = new Rng(5);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    const copy = a.slice();
    const { values, vectors } = symmetricEigen(a, n);
    expect(a).toEqual(copy);
    const vt = transpose(vectors, n);
    expect(maxAbsDiff(matMul(vt, vectors, n), diag(new Array(n).fill(1)))).toBeLessThan(1e-12);
    expect(maxAbsDiff(matMul(matMul(vectors, diag([...values]), n), vt, n), a)).toBeLessThan(1e-12);
  });

  it('handles a diagonal matrix, a zero matrix and 1×1', () => {
    expect([...symmetricEigen(diag([3, -1, 2]), 3).values]).toEqual([3, -1, 2]);
    expect([...symmetricEigen(new Float64Array(4), 2).values]).toEqual([0, 0]);
    expect([...symmetricEigen(Float64Array.of(7), 1).values]).toEqual([7]);
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow(RangeError);
  });
});

describe('psdSqrt and traceSqrtProduct', () => {
  it('squares back to the matrix, and clamps round-off negative eigenvalues of a singular one', () => {
    const n = 6;
    const r = rotation(n, 1);
    const s = rotated(r, [4, 2, 1, 0.5, 0, 0]); // rank 4
    const root = psdSqrt(s, n);
    expect(maxAbsDiff(matMul(root, root, n), s)).toBeLessThan(1e-12);
    expect(maxAbsDiff(root, rotated(r, [2, Math.SQRT2, 1, Math.SQRT1_2, 0, 0]))).toBeLessThan(1e-12);
    for (const x of root) expect(Number.isFinite(x)).toBe(true);
  });

  it('matches the 2×2 closed form Tr√M = √(Tr M + 2√det M) for non-commuting covariances', () => {
    const s1 = Float64Array.of(2, 0.5, 0.5, 1);
    const s2 = rotated(rotation(2, 4), [3, 0.2]);
    const m = matMul(s1, s2, 2);
    const det = m[0] * m[3] - m[1] * m[2];
    const expected = Math.sqrt(m[0] + m[3] + 2 * Math.sqrt(det));
    expect(traceSqrtProduct(s1, s2, 2).trace).toBeCloseTo(expected, 12);
    expect(traceSqrtProduct(s2, s1, 2).trace).toBeCloseTo(expected, 12); // Tr√(Σ₁Σ₂) = Tr√(Σ₂Σ₁)
  });

  // Reference values computed once offline with numpy 2.4.6 / scipy 1.17.1, np.trace(scipy.linalg.sqrtm(S1 @ S2)).real;
  // pasted here so the test needs no python.
  const S1 = [
    [6.25, 1.25, 0.0, 0.25, -0.25],
    [1.25, 8.0, 1.25, 4.75, 0.75],
    [0.0, 1.25, 1.5, 2.5, 1.25],
    [0.25, 4.75, 2.5, 6.75, 2.0],
    [-0.25, 0.75, 1.25, 2.0, 2.75],
  ];
  const S2 = [
    [3.0, 1.75, -1.5, -1.5, 2.0],
    [1.75, 5.5, 0.5, -4.5, -2.5],
    [-1.5, 0.5, 3.25, 0.75, -4.25],
    [-1.5, -4.5, 0.75, 11.25, 2.25],
    [2.0, -2.5, -4.25, 2.25, 7.25],
  ];
  const S3 = [
    [1.0, -1.0, -2.0, 0.0, -1.0],
    [-1.0, 1.0, 2.0, 0.0, 1.0],
    [-2.0, 2.0, 5.0, -2.0, 3.0],
    [0.0, 0.0, -2.0, 4.0, -2.0],
    [-1.0, 1.0, 3.0, -2.0, 2.0],
  ]; // rank 2: C·Cᵀ with C = [[1, 0], [-1, 0], [-2, 1], [0, -2], [-1, 1]]
  const flat = (m: number[][]) => Float64Array.from(m.flat());

  it('agrees with scipy.linalg.sqrtm on fixed 5×5 covariances, and beats it on a rank-2 one', () => {
    expect(traceSqrtProduct(flat(S1), flat(S2), 5).trace).toBeCloseTo(20.429380385009885, 10);
    // Rank 2: the nonzero eigenvalues of S3·S2 are those of M = Cᵀ·S2·C (2×2, Tr 42.25, det 979/4), so
    // Tr√(S3·S2) = √(42.25 + 2√(979/4)) = 8.575486907128016 (40-digit decimal arithmetic). scipy's sqrtm
    // gives 8.575486949292388, 4e-8 off: √ of its round-off at the three zero eigenvalues.
    expect(traceSqrtProduct(flat(S3), flat(S2), 5).trace).toBeCloseTo(Math.sqrt(42.25 + 2 * Math.sqrt(979 / 4)), 12);
    const fd = frechetDistance([0.5, -1, 0, 2, 0.25], flat(S1), [0, 0, 0, 0, 0], flat(S2), 5);
    expect(fd.distance).toBeCloseTo(19.95373922998023, 10);
  });
});

describe('frechetDistance', () => {
  it('diagonal Gaussians: ‖μ₁ − μ₂‖² + Σ (√a − √b)²', () => {
    const a = [1, 4, 0.25, 9];
    const b = [4, 1, 1, 9];
    const fd = frechetDistance([1, 0, 0, 0], diag(a), [0, 2, 0, 0], diag(b), 4);
    const cov = a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i])) ** 2, 0);
    expect(fd.meanTerm).toBeCloseTo(5, 14);
    expect(fd.covarianceTerm).toBeCloseTo(cov, 12);
    expect(fd.distance).toBeCloseTo(5 + cov, 12);
  });

  it('rotated commuting covariances: the direct formula ‖μ₁ − μ₂‖² + ‖Σ₁^{1/2} − Σ₂^{1/2}‖_F²', () => {
    const n = 8;
    const r = rotation(n, 2);
    const a = [5, 3, 2, 1, 0.5, 0.1, 0.01, 0];
    const b = [1, 1, 4, 2, 0.5, 0.3, 0, 0];
    const s1 = rotated(r, a);
    const s2 = rotated(r, b);
    const mu1 = Array.from({ length: n }, (_, i) => i / 4);
    const mu2 = Array.from({ length: n }, () => 0.5);
    const diff = psdSqrt(s1, n).map((x, i) => x - rotated(r, b.map(Math.sqrt))[i]);
    const frob = diff.reduce((s, x) => s + x * x, 0);
    const meanTerm = mu1.reduce((s, m, i) => s + (m - mu2[i]) ** 2, 0);
    const closed = a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i])) ** 2, 0);
    const fd = frechetDistance(mu1, s1, mu2, s2, n);
    expect(fd.covarianceTerm).toBeCloseTo(closed, 10);
    expect(frob).toBeCloseTo(closed, 10);
    expect(fd.distance).toBeCloseTo(meanTerm + closed, 10);
  });

  it('scaled covariance: W₂²(N(0, Σ), N(0, c²Σ)) = (1 − c)² Tr Σ, for a non-diagonal Σ', () => {
    const n = 5;
    const s = rotated(rotation(n, 3), [3, 2, 1, 0.5, 0.2]);
    const fd = frechetDistance(
      new Array(n).fill(0),
      s,
      new Array(n).fill(0),
      s.map((x) => 4 * x),
      n,
    );
    expect(fd.distance).toBeCloseTo((1 - 2) ** 2 * 6.7, 11);
  });

  it('identical sets give ~0 (never negative), also when the covariance is singular', () => {
    const rng = new Rng(9);
    const n = 30;
    const d = 50; // fewer rows than dimensions: rank ≤ 29, like 100 samples of 128 hidden units
    const x = Float64Array.from({ length: n * d }, () => rng.normal());
    const { mean, cov } = meanAndCovariance(x, n, d);
    const fd = frechetDistance(mean, cov, mean, cov, d);
    expect(fd.distance).toBeGreaterThanOrEqual(0);
    expect(fd.distance).toBeLessThan(1e-9);
    expect(fd.minEigenvalue).toBeGreaterThan(-1e-9);
  });

  it('sample moments of two Gaussians approach the closed form', () => {
    const rng = new Rng(11);
    const n = 20000;
    const r = rotation(3, 6);
    const sd1 = [1, 0.5, 2];
    const sd2 = [0.5, 0.5, 1];
    const draw = (sd: number[], shift: number) => {
      const x = new Float64Array(n * 3);
      for (let i = 0; i < n; i++) {
        const z = sd.map((s) => s * rng.normal());
        for (let j = 0; j < 3; j++) x[i * 3 + j] = shift + r[j * 3] * z[0] + r[j * 3 + 1] * z[1] + r[j * 3 + 2] * z[2];
      }
      return meanAndCovariance(x, n, 3);
    };
    const g1 = draw(sd1, 0);
    const g2 = draw(sd2, 1);
    const closed = 3 + sd1.reduce((s, a, i) => s + (a - sd2[i]) ** 2, 0); // 3 = ‖(1, 1, 1)‖²
    expect(frechetDistance(g1.mean, g1.cov, g2.mean, g2.cov, 3).distance).toBeCloseTo(closed, 1);
  });
});

describe('meanAndCovariance', () => {
  it('uses the n − 1 divisor, like np.cov', () => {
    const { mean, cov } = meanAndCovariance([1, 2, 3, 6, 5, 10], 3, 2);
    expect([...mean]).toEqual([3, 6]);
    expect([...cov]).toEqual([4, 8, 8, 16]);
    expect(() => meanAndCovariance([1, 2], 1, 2)).toThrow(RangeError);
  });
});
