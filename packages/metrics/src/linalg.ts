/**
 * Small dense float64 linear algebra for the Fréchet distance between Gaussians (Heusel et al. 2017,
 * the FID equation; Dowson & Landau 1982 for the distance itself):
 *
 *   d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^{1/2}).
 *
 * Σ₁Σ₂ is not symmetric, so its square root is not taken directly (scipy.linalg.sqrtm's Schur route,
 * as pytorch-fid does, can return complex round-off for near-singular covariances). Instead, with
 * S = Σ₁^{1/2}, the matrix Σ₁Σ₂ = S·(S Σ₂ S)·S⁻¹ is similar to A = S Σ₂ S, which is symmetric
 * positive semi-definite, so Tr((Σ₁Σ₂)^{1/2}) = Tr(A^{1/2}) = Σᵢ √λᵢ(A) — true also when Σ₁ is singular,
 * by continuity. Both square roots come from a symmetric eigen-decomposition by cyclic Jacobi
 * rotations (Golub & Van Loan, Matrix Computations, 4th ed., §8.5.2, Algorithm 8.5.3), accurate and
 * simple at the sizes used here (the digit classifier's 128 hidden units: a few ms). Eigenvalues
 * below n·ε·max|λ| (ε = 2⁻⁵², the size of round-off; negative ones included) are taken as zero: √ is
 * not Lipschitz at 0, so a zero eigenvalue computed as +1e-16·max|λ| would otherwise add 1e-8·√max|λ|
 * to the trace — exactly zero ones are the rule here, as a covariance of fewer samples than
 * dimensions is singular. The price of going through A: its eigenvalues are products of Σ₁'s and Σ₂'s,
 * so only those above ≈ √(nε) of the largest are resolved, and the trace is good to about
 * √(nε)·max λ per dimension (identical sets of 300 digit-feature rows, d = 128: 3.8e-7, against 1.3
 * between two draws of 400 real digits) — ample for a distance read to a few digits.
 *
 * Matrices are row-major Float64Arrays of n·n values.
 */

/** Eigenvalues and orthonormal eigenvectors of a symmetric matrix: A = V·diag(values)·Vᵀ. */
export interface SymmetricEigen {
  /** Eigenvalues, in no particular order. */
  values: Float64Array;
  /** Row-major n×n; column i is the eigenvector of values[i]. */
  vectors: Float64Array;
  /** Jacobi sweeps used (each visits every off-diagonal pair once). */
  sweeps: number;
}

/**
 * Symmetric eigen-decomposition by cyclic Jacobi rotations (Golub & Van Loan §8.5.2). Why Jacobi: it
 * is short, needs no tridiagonalisation, and gives small eigenvalues to high relative accuracy, which
 * matters for the near-singular covariances of few samples. Only the upper triangle's symmetry is
 * assumed, not checked; `a` is not modified. Sweeps stop when the off-diagonal Frobenius norm is below
 * 1e-14 of the whole matrix's (or after 100 sweeps; quadratic convergence needs about 6–10).
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  if (a.length !== n * n) throw new RangeError(`symmetricEigen: expected ${n}×${n} = ${n * n} values, got ${a.length}`);
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < m.length; i++) total += m[i] * m[i];
  const tol = 1e-28 * total; // (1e-14)² relative, on squared norms
  let sweeps = 0;
  for (; sweeps < 100; sweeps++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * m[p * n + q] * m[p * n + q];
    if (off <= tol || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        // The rotation that zeroes m[p][q] (Golub & Van Loan Algorithm 8.5.1, sym.schur2).
        const tau = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.abs(tau) > 1e150 ? 1 / (2 * tau) : (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        // m ← m·J (columns p, q), then Jᵀ·m (rows p, q); v ← v·J.
        for (let k = 0; k < n; k++) {
          const kp = m[k * n + p];
          const kq = m[k * n + q];
          m[k * n + p] = c * kp - s * kq;
          m[k * n + q] = s * kp + c * kq;
        }
        for (let k = 0; k < n; k++) {
          const pk = m[p * n + k];
          const qk = m[q * n + k];
          m[p * n + k] = c * pk - s * qk;
          m[q * n + k] = s * pk + c * qk;
        }
        m[p * n + q] = 0;
        m[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const kp = v[k * n + p];
          const kq = v[k * n + q];
          v[k * n + p] = c * kp - s * kq;
          v[k * n + q] = s * kp + c * kq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = m[i * n + i];
  return { values, vectors: v, sweeps };
}

/**
 * Square roots of eigenvalues of a PSD matrix, with those below n·ε·max|λ| (round-off) taken as zero;
 * why: see the file comment.
 */
export function sqrtEigenvalues(values: Float64Array): Float64Array {
  let top = 0;
  for (const l of values) top = Math.max(top, Math.abs(l));
  const floor = values.length * Number.EPSILON * top;
  return values.map((l) => (l > floor ? Math.sqrt(l) : 0));
}

/** V·diag(w)·Vᵀ for a symmetric eigen-decomposition and new eigenvalues w: a function of a symmetric matrix. */
function fromEigen(e: SymmetricEigen, n: number, w: Float64Array): Float64Array {
  const out = new Float64Array(n * n);
  const { vectors: v } = e;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += v[i * n + k] * w[k] * v[j * n + k];
      out[i * n + j] = sum;
      out[j * n + i] = sum;
    }
  }
  return out;
}

/** The symmetric PSD square root of a symmetric PSD matrix, round-off-sized and negative eigenvalues taken as zero ({@link sqrtEigenvalues}). */
export function psdSqrt(a: Float64Array, n: number): Float64Array {
  const e = symmetricEigen(a, n);
  return fromEigen(e, n, sqrtEigenvalues(e.values));
}

/** c = a·b for n×n row-major matrices. */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}

/**
 * Tr((Σ₁Σ₂)^{1/2}) for symmetric PSD Σ₁, Σ₂, as Σᵢ √λᵢ ({@link sqrtEigenvalues}) over the eigenvalues of the symmetric
 * A = Σ₁^{1/2} Σ₂ Σ₁^{1/2} (similar to Σ₁Σ₂; see the file comment). `minEigenvalue` is A's smallest
 * eigenvalue before clamping: slightly negative is round-off, clearly negative means an input was not PSD.
 */
export function traceSqrtProduct(s1: Float64Array, s2: Float64Array, n: number): { trace: number; minEigenvalue: number } {
  const r = psdSqrt(s1, n);
  const a = matMul(matMul(r, s2, n), r, n);
  // Symmetrise: the products above are symmetric up to round-off, and Jacobi reads one triangle's pairs.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const m = (a[i * n + j] + a[j * n + i]) / 2;
      a[i * n + j] = m;
      a[j * n + i] = m;
    }
  }
  const { values } = symmetricEigen(a, n);
  let trace = 0;
  for (const r of sqrtEigenvalues(values)) trace += r;
  return { trace, minEigenvalue: n > 0 ? Math.min(...values) : 0 };
}

/** Mean [d] and unbiased covariance [d, d] (divisor n − 1, as numpy's `np.cov` and pytorch-fid use) of rows [n, d], in float64. */
export function meanAndCovariance(x: ArrayLike<number>, n: number, d: number): { mean: Float64Array; cov: Float64Array } {
  if (x.length !== n * d) throw new RangeError(`meanAndCovariance: expected ${n}×${d} values, got ${x.length}`);
  if (n < 2) throw new RangeError(`meanAndCovariance: needs at least 2 rows, got ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j] - mean[j];
    for (let j = 0; j < d; j++) {
      const rj = row[j];
      if (rj === 0) continue;
      for (let k = j; k < d; k++) cov[j * d + k] += rj * row[k];
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      const c = cov[j * d + k] / (n - 1);
      cov[j * d + k] = c;
      cov[k * d + j] = c;
    }
  }
  return { mean, cov };
}

/** The two terms of the Fréchet distance and their sum. */
export interface FrechetDistance {
  /** ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}), floored at 0 (round-off can make identical inputs give −1e-13). */
  distance: number;
  /** ‖μ₁ − μ₂‖². */
  meanTerm: number;
  /** Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}): the squared 2-Wasserstein distance between N(0, Σ₁) and N(0, Σ₂). */
  covarianceTerm: number;
  /** Smallest eigenvalue of Σ₁^{1/2}Σ₂Σ₁^{1/2} before clamping (see {@link traceSqrtProduct}). */
  minEigenvalue: number;
}

/**
 * Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂) in d dimensions (Heusel et al. 2017, FID
 * equation): the squared 2-Wasserstein distance between the two Gaussians (Dowson & Landau 1982).
 */
export function frechetDistance(mu1: ArrayLike<number>, s1: Float64Array, mu2: ArrayLike<number>, s2: Float64Array, d: number): FrechetDistance {
  if (mu1.length !== d || mu2.length !== d || s1.length !== d * d || s2.length !== d * d) {
    throw new RangeError(`frechetDistance: expected means of ${d} and covariances of ${d}×${d} values`);
  }
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (mu1[j] - mu2[j]) ** 2;
  let traces = 0;
  for (let j = 0; j < d; j++) traces += s1[j * d + j] + s2[j * d + j];
  const { trace, minEigenvalue } = traceSqrtProduct(s1, s2, d);
  const covarianceTerm = traces - 2 * trace;
  return { distance: Math.max(0, meanTerm + covarianceTerm), meanTerm, covarianceTerm, minEigenvalue };
}
