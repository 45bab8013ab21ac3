/**
 * @diffusionlab/metrics in a browser (the `browser` export condition): every metric that works on
 * the arrays it is given. `digit-classifier` trains or reads a cached classifier from MNIST files
 * and a cache folder on disk, so it is Node-only; index.ts adds it.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { energyMetric } from './energy.js';
import { mmdMetric } from './mmd.js';
import { modesMetric } from './modes.js';
import { pixelStatsMetric } from './pixel-stats.js';
import { slicedWassersteinMetric } from './sliced-wasserstein.js';
import { w1Metric } from './w1.js';

export * from './energy.js';
export * from './mlp-classifier.js';
export * from './mmd.js';
export * from './modes.js';
export * from './pixel-stats.js';
export * from './sliced-wasserstein.js';
export * from './w1.js';

/** The metrics a browser can compute, in the runner's order; Node's entry adds `digit-classifier`. */
export const plugins: readonly AnyPluginDefinition[] = [w1Metric, slicedWassersteinMetric, mmdMetric, energyMetric, modesMetric, pixelStatsMetric];
