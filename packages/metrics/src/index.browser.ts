/**
 * @diffusionlab/metrics in a browser (the `browser` export condition): every metric that works on
 * the arrays it is given. `digit-classifier`, `digit-accuracy`, `digit-inception-score` and
 * `digit-frechet-distance` train or read a cached classifier from MNIST files and a cache folder on
 * disk, so they are Node-only; index.ts adds them.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { classDiversityMetric } from './class-diversity.js';
import { componentAccuracyMetric } from './component-accuracy.js';
import { energyMetric } from './energy.js';
import { mmdMetric } from './mmd.js';
import { modesMetric } from './modes.js';
import { pixelStatsMetric } from './pixel-stats.js';
import { slicedWassersteinMetric } from './sliced-wasserstein.js';
import { w1Metric } from './w1.js';

export * from './class-diversity.js';
export * from './class-labels.js';
export * from './component-accuracy.js';
export * from './energy.js';
export * from './linalg.js';
export * from './mlp-classifier.js';
export * from './mmd.js';
export * from './modes.js';
export * from './pixel-stats.js';
export * from './sliced-wasserstein.js';
export * from './w1.js';

/** The metrics a browser can compute, in the runner's order; Node's entry adds the four digit-classifier metrics. */
export const plugins: readonly AnyPluginDefinition[] = [
  w1Metric,
  slicedWassersteinMetric,
  mmdMetric,
  energyMetric,
  modesMetric,
  pixelStatsMetric,
  componentAccuracyMetric,
  classDiversityMetric,
];
