/**
 * @diffusionlab/datasets: data sources for diffusionlab experiments: an exact Gaussian mixture
 * (the reference example's data), the 2-D toy sets used across the literature, users' files, and handwritten digits.
 * Node's entry: the browser-safe part (index.browser.ts) plus the datasets that read the file system.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { digitsDataset } from './digits.js';
import { fileDataset } from './file.js';
import { plugins as browserPlugins } from './index.browser.js';

export * from './index.browser.js';
export { digitsDataset, fileDataset };
export { createDigits, type DigitsDataset, type DigitsOptions, digitsOptions, loadMnistDigit, toModelImage } from './digits.js';
export { readTable } from './file.js';
export * from './deprecated.js';

/** Every dataset plugin in this package, for the runner's explicit registry: the browser's, then `file` and `digits`. */
export const plugins: AnyPluginDefinition[] = [...browserPlugins, fileDataset, digitsDataset];
