/**
 * The cosine schedule (Nichol & Dhariwal 2021, "Improved DDPM", eq. 17): ᾱ(t) = f(t)/f(0) with
 * f(t) = cos²(((t/T) + s)/(1 + s) · π/2), and βₜ = min(1 − ᾱ(t+1)/ᾱ(t), maxBeta). It destroys
 * information more evenly than `linear` and ends with ᾱ_T ≈ 0.
 */
import { definePlugin, z } from '@diffusionlab/core';
import { finishSchedule, refineShared, rescaleOption, timestepsOption } from './common.js';

/** Options of `cosine`; s = 0.008 and maxBeta = 0.999 are the paper's values. */
export const cosineOptions = z
  .object({
    timesteps: timestepsOption,
    s: z
      .number()
      .min(0, 'must be ≥ 0')
      .max(1, 'must be ≤ 1 (the paper uses 0.008)')
      .default(0.008)
      .describe('Offset s in f(t) = cos²((t/T + s)/(1 + s)·π/2); keeps β₀ from being too small (eq. 17).'),
    maxBeta: z
      .number()
      .gt(0, 'must lie in (0, 1]')
      .max(1, 'must lie in (0, 1]')
      .default(0.999)
      .describe('Upper clip on β, avoiding the singularity at t = T (Nichol & Dhariwal 2021, §3.2).'),
    rescaleZeroTerminalSnr: rescaleOption,
  })
  .strict()
  .superRefine(refineShared);

/**
 * βₜ = min(1 − f((t+1)/T)/f(t/T), maxBeta) for t = 0 … T−1, where ᾱ(t) = f(t)/f(0). Computed as
 * sin(θ₂ − θ₁)·sin(θ₂ + θ₁)/cos²θ₁ (θ = ((t/T) + s)/(1 + s)·π/2), the same quantity without the
 * cancellation of 1 − ratio, so small early β keep their relative precision.
 */
export function cosineBetas(timesteps: number, s: number, maxBeta: number): Float64Array {
  const theta = (u: number) => ((u + s) / (1 + s)) * (Math.PI / 2);
  const out = new Float64Array(timesteps);
  for (let t = 0; t < timesteps; t++) {
    const th1 = theta(t / timesteps);
    const th2 = theta((t + 1) / timesteps);
    const c = Math.cos(th1);
    const beta = (Math.sin(th2 - th1) * Math.sin(th2 + th1)) / (c * c);
    out[t] = Math.min(beta, maxBeta);
  }
  return out;
}

/** The `cosine` schedule plugin: the improved-DDPM schedule that ends near pure noise. */
export const cosineSchedule = definePlugin({
  kind: 'schedule',
  name: 'cosine',
  description: 'Cosine ᾱ(t) = f(t)/f(0), f = cos²((t/T + s)/(1 + s)·π/2) (Nichol & Dhariwal 2021, eq. 17).',
  options: cosineOptions,
  create: (o) => finishSchedule('cosine', cosineBetas(o.timesteps, o.s, o.maxBeta), o),
});
