/**
 * @diffusionlab/samplers: reverse-process integrators as `sampler` plugins — DDPM, DDIM, Euler,
 * Euler ancestral, Heun, linear multistep, DPM-Solver++(2M) and its SDE variant. Each works on any schedule through
 * core's (ε̂, x̂₀) view, so a config swaps samplers without retraining.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { ddimSampler } from './ddim.js';
import { ddpmSampler } from './ddpm.js';
import { dpmpp2mSampler } from './dpmpp-2m.js';
import { dpmpp2mSdeSampler } from './dpmpp-2m-sde.js';
import { eulerSampler } from './euler.js';
import { eulerAncestralSampler } from './euler-ancestral.js';
import { heunSampler } from './heun.js';
import { lmsSampler } from './lms.js';

export * from './common.js';
export * from './ddim.js';
export * from './ddpm.js';
export * from './dpmpp-2m.js';
export * from './dpmpp-2m-sde.js';
export * from './euler.js';
export * from './euler-ancestral.js';
export * from './heun.js';
export * from './lms.js';
export * from './sigmas.js';

export * from './deprecated.js';

/** Every sampler plugin of this package, for the runner's registry. */
export const plugins: AnyPluginDefinition[] = [ddpmSampler, ddimSampler, eulerSampler, eulerAncestralSampler, heunSampler, lmsSampler, dpmpp2mSampler, dpmpp2mSdeSampler];
