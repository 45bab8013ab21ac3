/**
 * @diffusionlab/samplers: reverse-process integrators as `sampler` plugins — DDPM, DDIM, Euler,
 * Euler ancestral, Heun, DPM-2, linear multistep, DPM-Solver++(2M), its SDE variant, DPM-Solver++(2S)
 * ancestral, DPM-Solver++(3M) SDE and UniPC. Each works on any schedule through
 * core's (ε̂, x̂₀) view, so a config swaps samplers without retraining.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { withAdvice } from './advice.js';
import { ddim } from './ddim.js';
import { ddpm } from './ddpm.js';
import { dpm2 } from './dpm-2.js';
import { dpmpp2m } from './dpmpp-2m.js';
import { dpmpp2mSde } from './dpmpp-2m-sde.js';
import { dpmpp2sAncestral } from './dpmpp-2s-ancestral.js';
import { dpmpp3mSde } from './dpmpp-3m-sde.js';
import { euler } from './euler.js';
import { eulerAncestral } from './euler-ancestral.js';
import { heun } from './heun.js';
import { lms } from './lms.js';
import { unipc } from './unipc.js';

export * from './advice.js';
export * from './common.js';
export * from './ddim.js';
export * from './ddpm.js';
export * from './dpm-2.js';
export * from './dpmpp-2m.js';
export * from './dpmpp-2m-sde.js';
export * from './dpmpp-2s-ancestral.js';
export * from './dpmpp-3m-sde.js';
export * from './euler.js';
export * from './euler-ancestral.js';
export * from './heun.js';
export * from './lms.js';
export * from './sigmas.js';
export * from './unipc.js';

/** Every sampler plugin of this package, for the runner's registry, each with its advice (advice.ts) wired in. */
export const plugins: AnyPluginDefinition[] = [ddpm, ddim, euler, eulerAncestral, heun, dpm2, lms, dpmpp2m, dpmpp2mSde, dpmpp2sAncestral, dpmpp3mSde, unipc].map(withAdvice);
