/**
 * @diffusionlab/metrics: sample-quality metrics on plain typed arrays — exact 1-D Wasserstein,
 * sliced Wasserstein, MMD, energy distance, mode coverage, pixel statistics, a digit classifier and,
 * for conditional runs, requested-class accuracy and within-class diversity — as `metric` plugins plus
 * the pure functions behind them. Node's entry: the browser-safe part (index.browser.ts) plus the
 * four metrics built on the digit classifier, which read MNIST and a cache from disk.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { digitAccuracyMetric } from './digit-accuracy.js';
import { digitClassifierMetric } from './digit-classifier.js';
import { digitFrechetDistanceMetric } from './digit-frechet-distance.js';
import { digitInceptionScoreMetric } from './digit-inception-score.js';
import { plugins as browserPlugins } from './index.browser.js';

export * from './index.browser.js';
export * from './digit-accuracy.js';
export * from './digit-classifier.js';
export * from './digit-frechet-distance.js';
export * from './digit-inception-score.js';

export * from './deprecated.js';

/** Every metric plugin in this package, for the runner's explicit registry. */
export const plugins: readonly AnyPluginDefinition[] = [...browserPlugins, digitClassifierMetric, digitAccuracyMetric, digitInceptionScoreMetric, digitFrechetDistanceMetric];
