/**
 * The sigmoid β schedule of GeoDiff (Xu et al. 2022, "GeoDiff: a Geometric Diffusion Model for
 * Molecular Conformation Generation", code: models/epsnet/diffusion.py `get_beta_schedule`), also
 * diffusers' `beta_schedule="sigmoid"`:
 *   βₜ = sigmoid(−6 + 12·t/(T − 1)) · (betaEnd − betaStart) + betaStart,  t = 0 … T−1.
 * Not to be confused with the sigmoid schedule of Jabri et al. 2022 (RIN), which is defined on ᾱ
 * (a continuous-time γ(t)), not on β.
 */
import { definePlugin, z } from '@diffusionlab/core';
import { betaOption, finishSchedule, linspace, refineShared, rescaleOption, timestepsOption } from './common.js';

/** Options of `sigmoid`; the defaults (10⁻⁴ → 0.02) are GeoDiff's and DDPM's range. */
export const sigmoidOptions = z
  .object({
    timesteps: timestepsOption,
    betaStart: betaOption(0.0001, 'Lower end of β (approached, not reached, at t = 0).'),
    betaEnd: betaOption(0.02, 'Upper end of β (approached at t = T−1); must be ≥ betaStart.'),
    rescaleZeroTerminalSnr: rescaleOption,
  })
  .strict()
  .superRefine(refineShared);

/** The logistic function 1/(1 + e^{−x}). */
function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** βₜ = sigmoid(linspace(−6, 6, T))ₜ · (betaEnd − betaStart) + betaStart (GeoDiff). */
export function sigmoidBetas(timesteps: number, betaStart: number, betaEnd: number): Float64Array {
  return linspace(-6, 6, timesteps).map((x) => logistic(x) * (betaEnd - betaStart) + betaStart);
}

/** The `sigmoid` schedule plugin: β ramps slowly at both ends and fast in the middle. */
export const sigmoidSchedule = definePlugin({
  kind: 'schedule',
  name: 'sigmoid',
  description: 'β = sigmoid(linspace(−6, 6, T))·(betaEnd − betaStart) + betaStart (GeoDiff, Xu et al. 2022).',
  options: sigmoidOptions,
  create: (o) => finishSchedule('sigmoid', sigmoidBetas(o.timesteps, o.betaStart, o.betaEnd), o),
});
