/**
 * @diffusionlab/metrics: sample-quality metrics on plain typed arrays — exact 1-D Wasserstein,
 * sliced Wasserstein, MMD, energy distance, mode coverage, pixel statistics and a digit classifier — as `metric`
 * plugins plus the pure functions behind them.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { digitClassifierPlugin } from './digit-classifier.js';
import { energyPlugin } from './energy.js';
import { mmdPlugin } from './mmd.js';
import { modesPlugin } from './modes.js';
import { pixelStatsPlugin } from './pixel-stats.js';
import { slicedWassersteinPlugin } from './sliced-wasserstein.js';
import { w1Plugin } from './w1.js';

export * from './digit-classifier.js';
export * from './energy.js';
export * from './mlp-classifier.js';
export * from './mmd.js';
export * from './modes.js';
export * from './pixel-stats.js';
export * from './sliced-wasserstein.js';
export * from './w1.js';

/** Every metric plugin in this package, for the runner's explicit registry. */
export const plugins: readonly AnyPluginDefinition[] = [
  w1Plugin,
  slicedWassersteinPlugin,
  mmdPlugin,
  energyPlugin,
  modesPlugin,
  pixelStatsPlugin,
  digitClassifierPlugin,
];
