/**
 * The export names these plugins had before every package named its plugins `<name><Kind>` (see
 * CONTRIBUTING.md, "Naming plugins"). Each alias is the same object as its new name; they stay for
 * one minor version so existing imports keep working while they move, then this file goes.
 */
import { cosineSchedule } from './cosine.js';
import { linearSchedule } from './linear.js';
import { scaledLinearSchedule } from './scaled-linear.js';
import { sigmoidSchedule } from './sigmoid.js';

/** @deprecated Renamed to {@link linearSchedule} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const linear = linearSchedule;

/** @deprecated Renamed to {@link scaledLinearSchedule} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const scaledLinear = scaledLinearSchedule;

/** @deprecated Renamed to {@link cosineSchedule} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const cosine = cosineSchedule;

/** @deprecated Renamed to {@link sigmoidSchedule} (plugins are named `<name><Kind>`); removed in the next minor version. */
export const sigmoid = sigmoidSchedule;
