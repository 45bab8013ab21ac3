/**
 * @diffusionlab/metrics: sample-quality metrics on plain typed arrays — exact 1-D Wasserstein,
 * sliced Wasserstein, MMD, energy distance, mode coverage, pixel statistics and a digit classifier — as `metric`
 * plugins plus the pure functions behind them.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { digitClassifierMetric } from './digit-classifier.js';
import { energyMetric } from './energy.js';
import { mmdMetric } from './mmd.js';
import { modesMetric } from './modes.js';
import { pixelStatsMetric } from './pixel-stats.js';
import { slicedWassersteinMetric } from './sliced-wasserstein.js';
import { w1Metric } from './w1.js';

export * from './digit-classifier.js';
export * from './energy.js';
export * from './mlp-classifier.js';
export * from './mmd.js';
export * from './modes.js';
export * from './pixel-stats.js';
export * from './sliced-wasserstein.js';
export * from './w1.js';

export * from './deprecated.js';

/** Every metric plugin in this package, for the runner's explicit registry. */
export const plugins: readonly AnyPluginDefinition[] = [
  w1Metric,
  slicedWassersteinMetric,
  mmdMetric,
  energyMetric,
  modesMetric,
  pixelStatsMetric,
  digitClassifierMetric,
];
