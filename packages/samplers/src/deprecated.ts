/**
 * The export names these plugins had before every package named its plugins `<name><Kind>` (see
 * CONTRIBUTING.md, "Naming plugins"). Each alias is the same object as its new name; they stay for
 * one minor version so existing imports keep working while they move, then this file goes.
 */
import { ddimSampler } from './ddim.js';
import { ddpmSampler } from './ddpm.js';
import { dpmpp2mSampler } from './dpmpp-2m.js';
import { dpmpp2mSdeSampler } from './dpmpp-2m-sde.js';
import { eulerSampler } from './euler.js';
import { eulerAncestralSampler } from './euler-ancestral.js';
import { heunSampler } from './heun.js';
import { lmsSampler } from './lms.js';

/** @deprecated Renamed to {@link ddpmSampler} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const ddpm = ddpmSampler;

/** @deprecated Renamed to {@link ddimSampler} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const ddim = ddimSampler;

/** @deprecated Renamed to {@link eulerSampler} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const euler = eulerSampler;

/** @deprecated Renamed to {@link eulerAncestralSampler} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const eulerAncestral = eulerAncestralSampler;

/** @deprecated Renamed to {@link heunSampler} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const heun = heunSampler;

/** @deprecated Renamed to {@link lmsSampler} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const lms = lmsSampler;

/** @deprecated Renamed to {@link dpmpp2mSampler} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const dpmpp2m = dpmpp2mSampler;

/** @deprecated Renamed to {@link dpmpp2mSdeSampler} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const dpmpp2mSde = dpmpp2mSdeSampler;
