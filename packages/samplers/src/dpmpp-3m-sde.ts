/**
 * DPM-Solver++(3M) SDE (Lu et al. 2022, "DPM-Solver++", §4–5 — the third-order multistep
 * data-prediction solver — on the reverse SDE as Gonzalez et al. 2023 / k-diffusion
 * `sample_dpmpp_3m_sde`). With λ = −log σ, h = λ' − λ, h_η = (1 + η)·h and the last two step sizes
 * h₁, h₂ (r₀ = h₁/h, r₁ = h₂/h):
 *   x_{σ'} = e^{−h_η}·x_σ + (1 − e^{−h_η})·x̂₀ + φ₂·D₁ − 2φ₃·D₂ + σ'·√(1 − e^{−2ηh})·z,
 * where φ₂ = (e^{−h_η} − 1)/h_η + 1, φ₃ = φ₂/h_η − ½ (h·φ_k(−h) of the exponential integrator),
 * and D₁, D₂ are the Newton divided differences of x̂₀ over the last three points, in units of h:
 *   δ₀ = (x̂₀ − x̂₀₋₁)/r₀, δ₁ = (x̂₀₋₁ − x̂₀₋₂)/r₁, D₁ = δ₀ + (δ₀ − δ₁)·r₀/(r₀ + r₁), D₂ = (δ₀ − δ₁)/(r₀ + r₁),
 * so x̂₀(λ + u·h) ≈ x̂₀ + D₁·u + D₂·u². The exact integral of the u² term is
 * ∫₀¹ h_η·e^{−h_η(1−u)}·u² du = −2φ₃ (≈ h_η/3); k-diffusion and diffusers weigh D₂ by −φ₃ (≈ h_η/6),
 * which leaves the method second order in practice (error ratio 2.9 from 40 to 80 Karras steps on
 * the exact Gaussian denoiser, against 8.3 with −2φ₃; see solvers.test.ts). The first step is
 * first order, the second second order (φ₂·δ₀), and the last lands on σ = 0 with x = x̂₀. η = 0
 * gives the deterministic DPM-Solver++(3M) ODE solver. One model call per step.
 */
import { definePlugin, withDefaults, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { commonOptionFields, etaOption, sigmaOptionFields } from './common.js';
import { makeSigmaSampler, type SigmaOptions } from './sigmas.js';
import { withAdvice } from './advice.js';

/** Default step count of dpmpp-3m-sde (the stochastic solvers want a few more steps than the ODE ones). */
export const DPMPP_3M_SDE_DEFAULT_STEPS = 25;

/** Options of `dpmpp-3m-sde`. */
export interface Dpmpp3mSdeOptions extends SigmaOptions {
  eta: number;
}

/** The dpmpp-3m-sde sampler; exported so programs can build one without the plugin registry. */
function buildDpmpp3mSde(options: Dpmpp3mSdeOptions) {
  const eta = options.eta;
  return makeSigmaSampler(
    'dpmpp-3m-sde',
    options,
    DPMPP_3M_SDE_DEFAULT_STEPS,
    (ctx) => {
      let x = ctx.initial();
      // Multistep history, local to this call: the last two x̂₀ and the step sizes (in λ) before them.
      let d1: tf.Tensor | null = null;
      let d2: tf.Tensor | null = null;
      let h1 = Number.NaN;
      let h2 = Number.NaN;
      for (let i = 0; i < ctx.steps; i++) {
        const sigma = ctx.sigma(i);
        const next = ctx.sigma(i + 1);
        const h = Math.log(sigma) - Math.log(next);
        const p1: tf.Tensor | null = d1;
        const p2: tf.Tensor | null = d2;
        const out: tf.Tensor[] = tf.tidy(() => {
          if (!Number.isFinite(sigma)) {
            // σ → ∞: e^{−h_η}·x_σ → σ'·ε̂ if η = 0, else 0; the noise term → σ'·z.
            const r = eta === 0 ? ctx.firstStepFromInfinity(x, next, 0) : ctx.firstStepFromInfinity(x, 0, next);
            return [r.x, r.x0];
          }
          const x0 = ctx.denoised(x, i);
          if (next === 0) return [x0];
          const hEta = h * (1 + eta);
          let xn = tf.add(tf.mul(x, Math.exp(-hEta)), tf.mul(x0, -Math.expm1(-hEta)));
          const phi2 = Math.expm1(-hEta) / hEta + 1;
          // r = h_prev/h is ∞ after a step from σ = ∞ (h_prev = ∞): that difference then contributes 0.
          if (p1 !== null && p2 !== null && Number.isFinite(h1) && Number.isFinite(h2)) {
            const r0 = h1 / h;
            const r1 = h2 / h;
            const delta0 = tf.div(tf.sub(x0, p1), r0);
            const delta1 = tf.div(tf.sub(p1, p2), r1);
            const diff = tf.sub(delta0, delta1);
            const D1 = tf.add(delta0, tf.mul(diff, r0 / (r0 + r1)));
            const D2 = tf.div(diff, r0 + r1);
            const phi3 = phi2 / hEta - 0.5;
            xn = tf.sub(tf.add(xn, tf.mul(D1, phi2)), tf.mul(D2, 2 * phi3));
          } else if (p1 !== null && Number.isFinite(h1)) {
            xn = tf.add(xn, tf.mul(tf.sub(x0, p1), (phi2 * h) / h1));
          }
          if (eta > 0) xn = tf.add(xn, tf.mul(ctx.noise(), next * Math.sqrt(-Math.expm1(-2 * eta * h))));
          return [xn, x0];
        });
        x.dispose();
        p2?.dispose();
        x = out[0];
        d2 = p1;
        d1 = out[1] ?? null;
        h2 = h1;
        h1 = h;
        ctx.report(i + 1, x);
      }
      (d1 as tf.Tensor | null)?.dispose();
      (d2 as tf.Tensor | null)?.dispose();
      return x;
    },
    true,
  );
}

/** The `dpmpp-3m-sde` plugin: stochastic third-order multistep solver, one model call per step. */
export const dpmpp3mSdeSampler = withAdvice(
  definePlugin({
    kind: 'sampler',
    name: 'dpmpp-3m-sde',
    description:
      'DPM-Solver++(3M) SDE (Lu et al. 2022; k-diffusion): stochastic 3rd-order multistep solver. Best measured at 10–20 NFE on a trained model: 20 steps match DDPM-1000 (any schedule)',
    options: z
      .object({
        ...commonOptionFields,
        steps: commonOptionFields.steps.describe(`Number of sampler steps (≤ T); omitted → ${DPMPP_3M_SDE_DEFAULT_STEPS}`),
        ...sigmaOptionFields,
        eta: etaOption(1, 'Noise share η: 1 = the SDE solver, 0 = the deterministic DPM-Solver++(3M) ODE'),
      })
      .strict(),
    create: (options) => buildDpmpp3mSde(options),
  }),
);

/**
 * The `dpmpp-3m-sde` sampler from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createDpmpp3mSde({ … })`).
 */
export const createDpmpp3mSde = withDefaults(dpmpp3mSdeSampler.options, buildDpmpp3mSde, 'sampler');
