/**
 * @diffusionlab/schedules: noise schedule plugins (linear, scaled-linear, cosine, sigmoid), each
 * with optional zero-terminal-SNR rescaling, plus re-exported diagnostics.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { cosine } from './cosine.js';
import { linear } from './linear.js';
import { scaledLinear } from './scaled-linear.js';
import { sigmoid } from './sigmoid.js';

export { linspace, MAX_TIMESTEPS } from './common.js';
export { cosine, cosineBetas, cosineOptions } from './cosine.js';
export * from './diagnostics.js';
export { linear, linearBetas, linearOptions } from './linear.js';
export { scaledLinear, scaledLinearBetas, scaledLinearOptions } from './scaled-linear.js';
export { sigmoid, sigmoidBetas, sigmoidOptions } from './sigmoid.js';
export { rescaleZeroTerminalSnr } from './zero-terminal-snr.js';

/** Every schedule in this package, for the runner's registry (`new PluginRegistry(plugins)`). */
export const plugins: AnyPluginDefinition[] = [linear, scaledLinear, cosine, sigmoid];
