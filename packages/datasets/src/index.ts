/**
 * @diffusionlab/datasets: data sources for diffusionlab experiments: an exact Gaussian mixture
 * (the reference example's data), the 2-D toy sets used across the literature, users' files, and handwritten digits.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { checkerboardDataset } from './checkerboard.js';
import { circlesDataset } from './circles.js';
import { digitsDataset } from './digits.js';
import { eightGaussiansDataset } from './eight-gaussians.js';
import { fileDataset } from './file.js';
import { gaussianMixtureDataset } from './gaussian-mixture.js';
import { moonsDataset } from './moons.js';
import { pinwheelDataset } from './pinwheel.js';
import { ringsDataset } from './rings.js';
import { swissRollDataset } from './swiss-roll.js';
import { twoSpiralsDataset } from './two-spirals.js';

export { checkerboardDataset, circlesDataset, digitsDataset, eightGaussiansDataset, fileDataset, gaussianMixtureDataset, moonsDataset, pinwheelDataset, ringsDataset, swissRollDataset, twoSpiralsDataset };
export { createGaussianMixture, type GaussianMixtureOptions, gaussianMixtureOptions, type ResolvedMixture, resolveMixture, sampleMixture } from './gaussian-mixture.js';
export { createDigits, type DigitsDataset, type DigitsOptions, digitsOptions, loadMnistDigit, toModelImage } from './digits.js';
export { datasetFromTable, type FileDataset, type FileOptions, fileOptions, readTable } from './file.js';
export { DataFileError, type NumericTable, parseDelimited, parseJsonTable, parseNpyTable } from './parse.js';
export { defineToy2d, STATS_DRAW, STATS_SEED, type ToyBaseOptions, type ToySpec } from './toy2d.js';
export { columnStats, largestRemainder, type Standardization, sampleRows, standardizeInPlace, unstandardize } from './util.js';

export * from './deprecated.js';

/** Every dataset plugin in this package, for the runner's registry. */
export const plugins: AnyPluginDefinition[] = [gaussianMixtureDataset, moonsDataset, swissRollDataset, eightGaussiansDataset, checkerboardDataset, circlesDataset, ringsDataset, pinwheelDataset, twoSpiralsDataset, fileDataset, digitsDataset];
