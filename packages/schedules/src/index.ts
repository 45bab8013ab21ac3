/**
 * @diffusionlab/schedules: noise schedule plugins (linear, scaled-linear, cosine, sigmoid), each
 * with optional zero-terminal-SNR rescaling, plus re-exported diagnostics.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { cosineSchedule } from './cosine.js';
import { linearSchedule } from './linear.js';
import { scaledLinearSchedule } from './scaled-linear.js';
import { sigmoidSchedule } from './sigmoid.js';

export { linspace, MAX_TIMESTEPS } from './common.js';
export { cosineSchedule, cosineBetas, cosineOptions } from './cosine.js';
export * from './diagnostics.js';
export { linearSchedule, linearBetas, linearOptions } from './linear.js';
export { scaledLinearSchedule, scaledLinearBetas, scaledLinearOptions } from './scaled-linear.js';
export { sigmoidSchedule, sigmoidBetas, sigmoidOptions } from './sigmoid.js';
export { rescaleZeroTerminalSnr } from './zero-terminal-snr.js';

export * from './deprecated.js';

/** Every schedule in this package, for the runner's registry (`new PluginRegistry(plugins)`). */
export const plugins: AnyPluginDefinition[] = [linearSchedule, scaledLinearSchedule, cosineSchedule, sigmoidSchedule];
