/**
 * The "scaled linear" schedule of latent/Stable Diffusion (Rombach et al. 2022; diffusers'
 * `scaled_linear`): √β is linear in t, i.e. β = linspace(√betaStart, √betaEnd, T)².
 */
import { definePlugin, z } from '@diffusionlab/core';
import { betaOption, finishSchedule, linspace, refineShared, rescaleOption, timestepsOption } from './common.js';

/** Options of `scaled-linear`; the defaults (0.00085 → 0.012, T = 1000) are Stable Diffusion's. */
export const scaledLinearOptions = z
  .object({
    timesteps: timestepsOption,
    betaStart: betaOption(0.00085, 'β at t = 0; √β is interpolated linearly from here.'),
    betaEnd: betaOption(0.012, 'β at t = T−1; must be ≥ betaStart.'),
    rescaleZeroTerminalSnr: rescaleOption,
  })
  .strict()
  .superRefine(refineShared);

/** βₜ = (√betaStart + t·(√betaEnd − √betaStart)/(T − 1))², t = 0 … T−1. */
export function scaledLinearBetas(timesteps: number, betaStart: number, betaEnd: number): Float64Array {
  return linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), timesteps).map((r) => r * r);
}

/** The `scaled-linear` schedule plugin: slower early noising than `linear`, as latent diffusion uses. */
export const scaledLinearSchedule = definePlugin({
  kind: 'schedule',
  name: 'scaled-linear',
  description: 'β = linspace(√betaStart, √betaEnd, T)² (Stable Diffusion\'s "scaled_linear").',
  options: scaledLinearOptions,
  create: (o) => finishSchedule('scaled-linear', scaledLinearBetas(o.timesteps, o.betaStart, o.betaEnd), o),
});
