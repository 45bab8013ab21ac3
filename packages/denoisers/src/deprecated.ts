/**
 * The export names these plugins had before every package named its plugins `<name><Kind>` (see
 * CONTRIBUTING.md, "Naming plugins"). Each alias is the same object as its new name; they stay for
 * one minor version so existing imports keep working while they move, then this file goes.
 */
import { mlpDenoiser } from './mlp.js';
import { oracleDenoiser } from './oracle.js';
import { seedMlpDenoiser } from './seed-mlp.js';
import { unetDenoiser } from './unet.js';

/** @deprecated Renamed to {@link seedMlpDenoiser} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const seedMlpPlugin = seedMlpDenoiser;

/** @deprecated Renamed to {@link oracleDenoiser} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const oraclePlugin = oracleDenoiser;

/** @deprecated Renamed to {@link mlpDenoiser} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const mlpPlugin = mlpDenoiser;

/** @deprecated Renamed to {@link unetDenoiser} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const unetPlugin = unetDenoiser;
