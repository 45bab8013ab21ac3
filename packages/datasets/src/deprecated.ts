/**
 * The export names these plugins had before every package named its plugins `<name><Kind>` (see
 * CONTRIBUTING.md, "Naming plugins"). Each alias is the same object as its new name; they stay for
 * one minor version so existing imports keep working while they move, then this file goes.
 */
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

/** @deprecated Renamed to {@link gaussianMixtureDataset} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const gaussianMixture = gaussianMixtureDataset;

/** @deprecated Renamed to {@link moonsDataset} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const moons = moonsDataset;

/** @deprecated Renamed to {@link swissRollDataset} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const swissRoll = swissRollDataset;

/** @deprecated Renamed to {@link eightGaussiansDataset} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const eightGaussians = eightGaussiansDataset;

/** @deprecated Renamed to {@link checkerboardDataset} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const checkerboard = checkerboardDataset;

/** @deprecated Renamed to {@link circlesDataset} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const circles = circlesDataset;

/** @deprecated Renamed to {@link ringsDataset} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const rings = ringsDataset;

/** @deprecated Renamed to {@link pinwheelDataset} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const pinwheel = pinwheelDataset;

/** @deprecated Renamed to {@link twoSpiralsDataset} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const twoSpirals = twoSpiralsDataset;

/** @deprecated Renamed to {@link fileDataset} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const file = fileDataset;

/** @deprecated Renamed to {@link digitsDataset} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const digits = digitsDataset;
