/**
 * The export names these plugins had before every package named its plugins `<name><Kind>` (see
 * CONTRIBUTING.md, "Naming plugins"). Each alias is the same object as its new name; they stay for
 * one minor version so existing imports keep working while they move, then this file goes.
 */
import { digitClassifierMetric } from './digit-classifier.js';
import { energyMetric } from './energy.js';
import { mmdMetric } from './mmd.js';
import { modesMetric } from './modes.js';
import { pixelStatsMetric } from './pixel-stats.js';
import { slicedWassersteinMetric } from './sliced-wasserstein.js';
import { w1Metric } from './w1.js';

/** @deprecated Renamed to {@link w1Metric} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const w1Plugin = w1Metric;

/** @deprecated Renamed to {@link slicedWassersteinMetric} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const slicedWassersteinPlugin = slicedWassersteinMetric;

/** @deprecated Renamed to {@link mmdMetric} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const mmdPlugin = mmdMetric;

/** @deprecated Renamed to {@link energyMetric} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const energyPlugin = energyMetric;

/** @deprecated Renamed to {@link modesMetric} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const modesPlugin = modesMetric;

/** @deprecated Renamed to {@link pixelStatsMetric} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const pixelStatsPlugin = pixelStatsMetric;

/** @deprecated Renamed to {@link digitClassifierMetric} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const digitClassifierPlugin = digitClassifierMetric;
