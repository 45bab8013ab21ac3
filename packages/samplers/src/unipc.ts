/**
 * UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of
 * Diffusion Models"), data prediction with B(h) = e^{−h} − 1 ("bh2"), as diffusers'
 * UniPCMultistepScheduler. In σ-space (x_σ = xₜ/√ᾱ, λ = −log σ, h = λ_t − λ_s, m = x̂₀):
 *
 * - UniP-p (predictor, Alg. 2 / eq. 8): with r_k = (λ_{s_k} − λ_s)/h over the p − 1 earlier points,
 *   D_k = (m_{s_k} − m_s)/r_k,
 *     x_t = (σ_t/σ_s)·x_s − (e^{−h} − 1)·m_s − B(h)·Σ_k ρ^p_k·D_k,
 *   ρ^p = ½ for p = 2, else the solution of R_{p−1}(r)·ρ = φ (below) without its last row/column.
 * - UniC-p (corrector, Alg. 1 / eq. 7): once m_t = x̂₀(x_t) is known (no extra model call),
 *     x_t^c = (σ_t/σ_s)·x_s − (e^{−h} − 1)·m_s − B(h)·(Σ_k ρ^c_k·D_k + ρ^c_p·(m_t − m_s)),
 *   with r_p = 1, ρ^c = ½ for p = 1, else R_p(r)·ρ^c = φ, R_p(r)_{jk} = r_k^{j}, φ_j = j!·φ_{j+1}(−h)·(−h)/B(h)
 *   (φ_j the exponential integrator's φ-functions, Thm 3.1). The corrected x_t^c starts the next
 *   predictor; the model output kept is the one at the uncorrected x_t (the paper's reuse).
 *
 * Orders warm up (1, 2, … up to `order`) and drop at the end (diffusers' lower_order_final), so the
 * last step, to σ = 0, is x = x̂₀. One model call per step. A start at σ = ∞ (zero terminal SNR)
 * takes its first-order limit x̂₀ + σ'·ε̂ and is not used as history (its λ is −∞).
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { commonOptionFields, sigmaOptionFields } from './common.js';
import { makeSigmaSampler, type SigmaOptions } from './sigmas.js';
import { withAdvice } from './advice.js';

/** UniPC's default step count (Zhao et al. 2023 report good samples from 10 steps). */
export const UNIPC_DEFAULT_STEPS = 20;

/** Options of `unipc`. */
export interface UnipcOptions extends SigmaOptions {
  order: number;
}

/** Solves the small dense system A·x = b (n ≤ 3) by Gaussian elimination with partial pivoting. */
export function solveSmall(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row.slice(0, n), b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

/**
 * The UniPC coefficients for one step of size h with the ratios `rks` (earlier points, then 1 for
 * the target point): R_{jk} = r_k^j and φ_j = j!·h_φ_{j+1}/B(h), built by the recursion
 * h_φ_1 = e^{−h} − 1, h_φ_{k+1} = h_φ_k/(−h) − 1/k! (Zhao et al. 2023 Thm 3.1; bh2: B(h) = e^{−h} − 1).
 */
export function unipcSystem(h: number, rks: readonly number[]): { R: number[][]; b: number[]; hPhi1: number; Bh: number } {
  const hh = -h;
  const hPhi1 = Math.expm1(hh);
  const Bh = hPhi1;
  let hPhiK = hPhi1 / hh - 1;
  let fact = 1;
  const R: number[][] = [];
  const b: number[] = [];
  for (let j = 1; j <= rks.length; j++) {
    R.push(rks.map((r) => r ** (j - 1)));
    b.push((hPhiK * fact) / Bh);
    fact *= j + 1;
    hPhiK = hPhiK / hh - 1 / fact;
  }
  return { R, b, hPhi1, Bh };
}

/** One history entry: the σ a model call was made at and its x̂₀. */
interface Entry {
  sigma: number;
  x0: tf.Tensor;
}

/**
 * x_t = (σ_t/σ_s)·x_s − h_φ₁·m_s − B(h)·Σ_k ρ_k·D_k: the shared form of UniP and UniC. `hist` ends
 * with the point s; `order − 1` earlier entries feed the differences D_k; `mt` (UniC) adds the
 * target point. Call in tf.tidy.
 */
function unipcUpdate(xs: tf.Tensor, hist: readonly Entry[], sigmaT: number, order: number, mt: tf.Tensor | null): tf.Tensor {
  const s = hist[hist.length - 1];
  const h = Math.log(s.sigma) - Math.log(sigmaT);
  const rks: number[] = [];
  const D: tf.Tensor[] = [];
  for (let k = 1; k < order; k++) {
    const e = hist[hist.length - 1 - k];
    const rk = (Math.log(s.sigma) - Math.log(e.sigma)) / h;
    rks.push(rk);
    D.push(tf.div(tf.sub(e.x0, s.x0), rk));
  }
  rks.push(1);
  const { R, b, hPhi1, Bh } = unipcSystem(h, rks);
  let x = tf.sub(tf.mul(xs, sigmaT / s.sigma), tf.mul(s.x0, hPhi1));
  let rho: number[];
  if (mt === null) {
    if (D.length === 0) return x;
    rho =
      D.length === 1
        ? [0.5]
        : solveSmall(
            R.slice(0, -1).map((row) => row.slice(0, -1)),
            b.slice(0, -1),
          );
  } else {
    rho = order === 1 ? [0.5] : solveSmall(R, b);
    D.push(tf.sub(mt, s.x0));
  }
  let res = tf.mul(D[0], rho[0]);
  for (let k = 1; k < D.length; k++) res = tf.add(res, tf.mul(D[k], rho[k]));
  x = tf.sub(x, tf.mul(res, Bh));
  return x;
}

/** The unipc sampler; exported so programs can build one without the plugin registry. */
function buildUnipc(options: UnipcOptions) {
  const maxOrder = options.order;
  return makeSigmaSampler(
    'unipc',
    options,
    UNIPC_DEFAULT_STEPS,
    (ctx) => {
      let x = ctx.initial();
      const hist: Entry[] = []; // finite-σ model outputs, newest last (at most maxOrder kept)
      let last: tf.Tensor | null = null; // the state the previous predictor started from
      let lastOrder = 0;
      for (let i = 0; i < ctx.steps; i++) {
        const sigma = ctx.sigma(i);
        const next = ctx.sigma(i + 1);
        if (!Number.isFinite(sigma)) {
          const xt = x;
          x = tf.tidy(() => ctx.firstStepFromInfinity(xt, next, 0).x);
          xt.dispose();
          ctx.report(i + 1, x);
          continue;
        }
        const xi = x;
        const m = tf.tidy(() => ctx.denoised(xi, i));
        let xc = xi;
        if (last !== null) {
          const from = last;
          xc = tf.tidy(() => unipcUpdate(from, hist, sigma, lastOrder, m));
          xi.dispose();
        }
        hist.push({ sigma, x0: m });
        if (hist.length > maxOrder) hist.shift()?.x0.dispose();
        last?.dispose();
        last = null;
        if (next === 0) {
          x = m.clone();
          xc.dispose();
        } else {
          const p = Math.min(maxOrder, hist.length, ctx.steps - i);
          const from = xc;
          x = tf.tidy(() => unipcUpdate(from, hist, next, p, null));
          last = xc;
          lastOrder = p;
        }
        ctx.report(i + 1, x);
      }
      (last as tf.Tensor | null)?.dispose();
      for (const e of hist) e.x0.dispose();
      return x;
    },
    true,
  );
}

/** The `unipc` plugin: multistep predictor-corrector ODE solver of order ≤ 3, one model call per step. */
export const unipcSampler = withAdvice(
  definePlugin({
    kind: 'sampler',
    name: 'unipc',
    description:
      'UniPC (Zhao et al. 2023, bh2, data prediction): multistep predictor-corrector ODE solver of order ≤ 3. Recommended deterministic solver for 10–20 NFE on any schedule',
    options: z
      .object({
        ...commonOptionFields,
        steps: commonOptionFields.steps.describe(`Number of sampler steps (≤ T); omitted → ${UNIPC_DEFAULT_STEPS}`),
        ...sigmaOptionFields,
        order: z
          .number({ error: 'order must be 1, 2 or 3' })
          .int({ error: 'order must be 1, 2 or 3' })
          .min(1, { error: 'order must be 1, 2 or 3' })
          .max(3, { error: 'order must be 1, 2 or 3' })
          .default(3)
          .describe('Predictor order p (1–3; the corrector raises it by one); Zhao et al. recommend 3 for unconditional models'),
      })
      .strict(),
    create: (options) => buildUnipc(options),
  }),
);

/**
 * The `unipc` sampler from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createUnipc({ … })`).
 */
export const createUnipc = withDefaults(unipcSampler.options, buildUnipc, 'sampler');
