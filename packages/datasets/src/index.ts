/**
 * @diffusionlab/datasets: data sources for diffusionlab experiments: an exact Gaussian mixture
 * (the reference example's data), the 2-D toy sets used across the literature, users' files, and handwritten digits.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { checkerboard } from './checkerboard.js';
import { circles } from './circles.js';
import { digits } from './digits.js';
import { eightGaussians } from './eight-gaussians.js';
import { file } from './file.js';
import { gaussianMixture } from './gaussian-mixture.js';
import { moons } from './moons.js';
import { pinwheel } from './pinwheel.js';
import { rings } from './rings.js';
import { swissRoll } from './swiss-roll.js';
import { twoSpirals } from './two-spirals.js';

export { checkerboard, circles, digits, eightGaussians, file, gaussianMixture, moons, pinwheel, rings, swissRoll, twoSpirals };
export { createGaussianMixture, type GaussianMixtureOptions, gaussianMixtureOptions, type ResolvedMixture, resolveMixture, sampleMixture } from './gaussian-mixture.js';
export { createDigits, type DigitsDataset, type DigitsOptions, digitsOptions, loadMnistDigit, toModelImage } from './digits.js';
export { datasetFromTable, type FileDataset, type FileOptions, fileOptions, readTable } from './file.js';
export { DataFileError, type NumericTable, parseDelimited, parseJsonTable, parseNpyTable } from './parse.js';
export { defineToy2d, STATS_DRAW, STATS_SEED, type ToyBaseOptions, type ToySpec } from './toy2d.js';
export { columnStats, largestRemainder, type Standardization, sampleRows, standardizeInPlace, unstandardize } from './util.js';

/** Every dataset plugin in this package, for the runner's registry. */
export const plugins: AnyPluginDefinition[] = [gaussianMixture, moons, swissRoll, eightGaussians, checkerboard, circles, rings, pinwheel, twoSpirals, file, digits];
