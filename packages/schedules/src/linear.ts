/**
 * The linear β schedule of DDPM (Ho et al. 2020, §4: β₁ = 10⁻⁴ … β_T = 0.02) and of the reference
 * example: β = linspace(betaStart, betaEnd, T).
 */
import { definePlugin, z } from '@diffusionlab/core';
import { betaOption, finishSchedule, linspace, refineShared, rescaleOption, timestepsOption } from './common.js';

/** Options of `linear`; the defaults are DDPM's, so `{ use: linear, timesteps: 100 }` is the reference. */
export const linearOptions = z
  .object({
    timesteps: timestepsOption,
    betaStart: betaOption(0.0001, 'β at t = 0 (first step).'),
    betaEnd: betaOption(0.02, 'β at t = T−1 (last step); must be ≥ betaStart.'),
    rescaleZeroTerminalSnr: rescaleOption,
  })
  .strict()
  .superRefine(refineShared);

/** βₜ = betaStart + t·(betaEnd − betaStart)/(T − 1), t = 0 … T−1 (Ho et al. 2020, §4). */
export function linearBetas(timesteps: number, betaStart: number, betaEnd: number): Float64Array {
  return linspace(betaStart, betaEnd, timesteps);
}

/** The `linear` schedule plugin: the reference algorithm's forward process. */
export const linearSchedule = definePlugin({
  kind: 'schedule',
  name: 'linear',
  description: 'Linear β from betaStart to betaEnd (DDPM, Ho et al. 2020); the reference schedule.',
  options: linearOptions,
  create: (o) => finishSchedule('linear', linearBetas(o.timesteps, o.betaStart, o.betaEnd), o),
});
