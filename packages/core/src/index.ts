/**
 * @diffusionlab/core: the plugin spec every diffusionlab package implements, plus the diffusion
 * math, seeded RNG, training and sampling loops, plugin registry and errors they share.
 */
export { z } from 'zod';
export * from './advice.js';
export * from './artifacts.js';
export * from './assignment.js';
export * from './autoguidance.js';
export * from './backend.js';
export * from './conditioning.js';
export * from './errors.js';
export * from './factory.js';
export * from './flow.js';
export * from './gradients.js';
export * from './launcher.js';
export * from './loss-weighting.js';
export * from './minibatch-ot.js';
export * from './lr.js';
export * from './npy.js';
export * from './options.js';
export * from './paths.js';
export * from './plugin.js';
export * from './prediction.js';
export * from './registry.js';
export * from './reverse-loop.js';
export * from './rng.js';
export * from './sample.js';
export * from './schedule.js';
export * from './spec.js';
export * from './train.js';
export * from './training-batch.js';
export * from './training-config.js';
export * from './training-path.js';
export * from './tfjs-training-path.js';
export * from './npy-header.js';
export * from './memory.js';
