/**
 * @diffusionlab/samplers: reverse-process integrators as `sampler` plugins — DDPM, DDIM, Euler,
 * Euler ancestral, Heun, DPM-2, linear multistep, DPM-Solver++(2M), its SDE variant, DPM-Solver++(2S)
 * ancestral, DPM-Solver++(3M) SDE and UniPC. Each works on any schedule through
 * core's (ε̂, x̂₀) view, so a config swaps samplers without retraining. For flow-matching models
 * (`training.objective: flow`): the Euler and Heun ODE solvers `flow-euler` and `flow-heun`, and the stochastic
 * DPM-Solver++(2M) SDE `flow-dpmpp-2m-sde`.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { ddimSampler } from './ddim.js';
import { ddpmSampler } from './ddpm.js';
import { dpm2Sampler } from './dpm-2.js';
import { dpmpp2mSampler } from './dpmpp-2m.js';
import { dpmpp2mSdeSampler } from './dpmpp-2m-sde.js';
import { dpmpp2sAncestralSampler } from './dpmpp-2s-ancestral.js';
import { dpmpp3mSdeSampler } from './dpmpp-3m-sde.js';
import { eulerSampler } from './euler.js';
import { flowDpmpp2mSdeSampler } from './flow-dpmpp-2m-sde.js';
import { flowEulerSampler } from './flow-euler.js';
import { flowHeunSampler } from './flow-heun.js';
import { eulerAncestralSampler } from './euler-ancestral.js';
import { heunSampler } from './heun.js';
import { lmsSampler } from './lms.js';
import { unipcSampler } from './unipc.js';

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
export * from './flow-common.js';
export * from './flow-dpmpp-2m-sde.js';
export * from './flow-euler.js';
export * from './flow-heun.js';
export * from './heun.js';
export * from './lms.js';
export * from './sigmas.js';
export * from './unipc.js';
export * from './deprecated.js';

/** Every sampler plugin of this package, for the runner's registry (each carries its advice, advice.ts). */
export const plugins: AnyPluginDefinition[] = [
  ddpmSampler,
  ddimSampler,
  eulerSampler,
  eulerAncestralSampler,
  heunSampler,
  dpm2Sampler,
  lmsSampler,
  dpmpp2mSampler,
  dpmpp2mSdeSampler,
  dpmpp2sAncestralSampler,
  dpmpp3mSdeSampler,
  unipcSampler,
  flowEulerSampler,
  flowHeunSampler,
  flowDpmpp2mSdeSampler,
];
