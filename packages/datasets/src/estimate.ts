/**
 * The memory estimate of a dataset that holds `rows` float32 rows of one shape, shared by the
 * generated sets (toy 2-D sets, Gaussian mixtures) so their `estimateMemory` hooks agree.
 */
import type { MemoryEstimate } from '@diffusionlab/core';

/**
 * Copies of the training set alive at once: the set itself, the copy `load()` returns, and the
 * shuffled epoch the training loop draws batches from.
 */
export const TRAINING_SET_COPIES = 3;

/** Bytes for `rows` rows of `shape` (float32, {@link TRAINING_SET_COPIES} copies), attributed to option `key`. */
export function rowsEstimate(rows: number, shape: readonly number[], key: string): MemoryEstimate {
  const D = shape.reduce((a, b) => a * b, 1);
  return { bytes: rows * D * 4 * TRAINING_SET_COPIES, key, what: `${rows} training rows of ${D} value${D === 1 ? '' : 's'}`, dataShape: shape };
}
