/**
 * Linear multistep (k-diffusion `sample_lms`; Karras et al. 2022 §3 discuss it as a baseline): the
 * probability-flow ODE dx/dσ = d(x, σ) integrated with the Adams–Bashforth idea on the irregular σ
 * grid: x_{σ_{i+1}} = x_{σ_i} + Σ_j c_j·d_{i−j}, c_j = ∫_{σ_i}^{σ_{i+1}} ℓ_j(σ) dσ with ℓ_j the Lagrange
 * basis over the last `order` grid points. One model call per step; the last step, to σ = 0, is
 * first order (x = x̂₀), unlike k-diffusion, so no extrapolated residual is left in the result.
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { commonOptionFields, sigmaOptionFields } from './common.js';
import { makeSigmaSampler, type SigmaOptions, toD } from './sigmas.js';
import { withAdvice } from './advice.js';

/** Default step count of lms. */
export const LMS_DEFAULT_STEPS = 50;

/** Options of `lms`. */
export interface LmsOptions extends SigmaOptions {
  order: number;
}

/** 3-point Gauss–Legendre nodes/weights on [−1, 1]: exact for the degree ≤ 3 Lagrange polynomials of order ≤ 4. */
const GL_X = [-Math.sqrt(3 / 5), 0, Math.sqrt(3 / 5)];
const GL_W = [5 / 9, 8 / 9, 5 / 9];

/**
 * k-diffusion's linear_multistep_coeff: ∫ from nodes[0] to `to` of the Lagrange basis polynomial of
 * node j over `nodes` (nodes[k] = σ_{i−k}). Exact (Gauss–Legendre) where k-diffusion uses quad.
 */
export function lmsCoefficient(nodes: readonly number[], to: number, j: number): number {
  const a = nodes[0];
  const half = (to - a) / 2;
  let sum = 0;
  for (let q = 0; q < 3; q++) {
    const tau = a + half * (GL_X[q] + 1);
    let prod = 1;
    for (let k = 0; k < nodes.length; k++) if (k !== j) prod *= (tau - nodes[k]) / (nodes[j] - nodes[k]);
    sum += GL_W[q] * prod;
  }
  return sum * half;
}

/** Builds the lms sampler from parsed options (the plugin and its `create…` factory share it). */
function buildLms(options: LmsOptions) {
  return makeSigmaSampler('lms', options, LMS_DEFAULT_STEPS, (ctx) => {
    let x = ctx.initial();
    // History of derivatives d_i (newest first) and their σ: local to this call.
    const ds: tf.Tensor[] = [];
    const nodes: number[] = [];
    for (let i = 0; i < ctx.steps; i++) {
      const sigma = ctx.sigma(i);
      const next = ctx.sigma(i + 1);
      if (!Number.isFinite(sigma)) {
        // σ = ∞: no polynomial through ∞; take the Euler limit x̂₀ + σ'·ε̂ and start the history after it.
        const y = tf.tidy(() => ctx.firstStepFromInfinity(x, next, 0).x);
        x.dispose();
        x = y;
        ctx.report(i + 1, x);
        continue;
      }
      const d = tf.tidy(() => toD(x, ctx.denoised(x, i), sigma));
      ds.unshift(d);
      nodes.unshift(sigma);
      if (ds.length > options.order) {
        ds.pop()?.dispose();
        nodes.pop();
      }
      // The last step (to σ = 0) is first order, so the result is x̂₀ (diffusers' lower_order_final).
      const used = next === 0 ? 1 : ds.length;
      const y = tf.tidy(() => {
        let acc = x;
        for (let j = 0; j < used; j++) acc = tf.add(acc, tf.mul(ds[j], lmsCoefficient(nodes.slice(0, used), next, j)));
        return acc;
      });
      x.dispose();
      x = y;
      ctx.report(i + 1, x);
    }
    for (const d of ds) d.dispose();
    return x;
  });
}

/** The `lms` plugin: linear multistep ODE solver of order ≤ 4, one model call per step. */
export const lmsSampler = withAdvice(
  definePlugin({
    kind: 'sampler',
    name: 'lms',
    description: 'Linear multistep ODE solver in σ-space (k-diffusion sample_lms), order 1–4. 50 steps on any schedule',
    options: z
      .object({
        ...commonOptionFields,
        steps: commonOptionFields.steps.describe(`Number of sampler steps (≤ T); omitted → ${LMS_DEFAULT_STEPS}`),
        ...sigmaOptionFields,
        order: z
          .number({ error: 'order must be an integer in 1 … 4' })
          .int({ error: 'order must be an integer in 1 … 4' })
          .min(1, { error: 'order must be an integer in 1 … 4' })
          .max(4, { error: 'order must be an integer in 1 … 4' })
          .default(4)
          .describe('Number of past derivatives used (k-diffusion default 4); 1 is Euler'),
      })
      .strict(),
    create: (options) => buildLms(options),
  }),
);

/**
 * The `lms` sampler from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createLms({ … })`).
 */
export const createLms = withDefaults(lmsSampler.options, buildLms, 'sampler');
