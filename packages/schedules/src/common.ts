/**
 * Options and helpers every schedule shares: the step count, the optional zero-terminal-SNR
 * rescale, the β-range rules and the final hand-off to core's `scheduleFromBetas`.
 */
import { type NoiseSchedule, scheduleFromBetas, z } from '@diffusionlab/core';
import { rescaleZeroTerminalSnr } from './zero-terminal-snr.js';

/** Largest accepted T: keeps a typo (1e9) from allocating gigabytes before anything runs. */
export const MAX_TIMESTEPS = 1_000_000;

/** `timesteps` as every schedule spells it, so `schedule.timesteps=…` works whatever `use` is. */
export const timestepsOption = z
  .number()
  .int({ error: `must be a positive integer (e.g. 1000)`, abort: true })
  .positive('must be a positive integer (e.g. 1000)')
  .max(MAX_TIMESTEPS, `must be at most ${MAX_TIMESTEPS}`)
  .default(1000)
  .describe('Number of training timesteps T; t runs over 0 … T−1.');

/** The Lin et al. (2023) switch, shared so every schedule can be made to end at pure noise. */
export const rescaleOption = z.boolean().default(false).describe('Rescale √ᾱ so that ᾱ_T = 0 exactly and ᾱ_0 is unchanged (Lin et al. 2023, Algorithm 1); the last β becomes 1.');

/** A β bound: strictly inside (0, 1), so a typo such as 1.5 fails at the key that holds it. */
export function betaOption(defaultValue: number, description: string) {
  return z
    .number()
    .gt(0, 'must lie in (0, 1): β is a per-step variance fraction')
    .lt(1, 'must lie in (0, 1): β is a per-step variance fraction')
    .default(defaultValue)
    .describe(description);
}

/** Checks that do not fit one field: why they live here is so each schedule reports them at the same key. */
export function refineShared(o: { timesteps: number; rescaleZeroTerminalSnr: boolean; betaStart?: number; betaEnd?: number }, ctx: z.RefinementCtx): void {
  // Ordering only between valid β: an out-of-range bound is already reported at its own key, and a
  // second, derived complaint would hide which value is wrong (betaStart = 1.5 is one mistake, not two).
  const valid = (b: number | undefined): b is number => b !== undefined && b > 0 && b < 1;
  if (valid(o.betaStart) && valid(o.betaEnd) && o.betaStart > o.betaEnd) {
    ctx.addIssue({
      code: 'custom',
      path: ['betaEnd'],
      message: `must be ≥ betaStart (${o.betaStart}), got ${o.betaEnd}; β grows from betaStart to betaEnd`,
    });
  }
  if (o.rescaleZeroTerminalSnr && o.timesteps < 2) {
    ctx.addIssue({
      code: 'custom',
      path: ['rescaleZeroTerminalSnr'],
      message: 'needs timesteps ≥ 2: with one step ᾱ_0 cannot stay unchanged while ᾱ_T becomes 0',
    });
  }
}

/**
 * `n` evenly spaced values from `start` to `end` inclusive (numpy/torch `linspace`): the endpoints
 * are exact, which is why tests can compare β₀ and β_{T−1} with `===`.
 */
export function linspace(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  out[n - 1] = end;
  return out;
}

/**
 * Applies the optional zero-terminal-SNR rescale and builds the immutable schedule, so every plugin
 * validates β the same way (core's check, error path `schedule`).
 */
export function finishSchedule(name: string, betas: Float64Array, options: { rescaleZeroTerminalSnr: boolean } & Record<string, unknown>): NoiseSchedule {
  const b = options.rescaleZeroTerminalSnr ? rescaleZeroTerminalSnr(betas) : betas;
  return scheduleFromBetas(name, b, { ...options }, 'schedule');
}
