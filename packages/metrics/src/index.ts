/**
 * @diffusionlab/metrics: sample-quality metrics on plain typed arrays — exact 1-D Wasserstein,
 * sliced Wasserstein, MMD, energy distance, mode coverage, pixel statistics and a digit classifier — as `metric`
 * plugins plus the pure functions behind them. Node's entry: the browser-safe part
 * (index.browser.ts) plus the digit classifier, which reads MNIST and a cache from disk.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { digitClassifierMetric } from './digit-classifier.js';
import { plugins as browserPlugins } from './index.browser.js';

export * from './index.browser.js';
export * from './digit-classifier.js';

export * from './deprecated.js';

/** Every metric plugin in this package, for the runner's explicit registry. */
export const plugins: readonly AnyPluginDefinition[] = [...browserPlugins, digitClassifierMetric];
