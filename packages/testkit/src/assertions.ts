/**
 * Small assertions for numeric plugin tests. They throw plain `Error`s with the index and values of
 * the worst mismatch, so they work inside any test runner and read well when they fail.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Thrown when a conformance check or assertion fails; a distinct class so tests can tell it from bugs. */
export class ConformanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceError';
  }
}

/** Absolute and relative tolerance: |a − e| ≤ abs + rel·|e|. A bare number is an absolute tolerance. */
export type Tolerance = number | { abs?: number; rel?: number };

/**
 * Asserts two arrays agree element-wise within `tol`; why: typed-array numerics (float32 tensors vs
 * float64 references) need a tolerance, and the message names the worst index so a failure is actionable.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): void {
  const abs = typeof tol === 'number' ? tol : (tol.abs ?? 0);
  const rel = typeof tol === 'number' ? 0 : (tol.rel ?? 0);
  if (actual.length !== expected.length) {
    throw new ConformanceError(`expectClose: length ${actual.length} ≠ expected length ${expected.length}`);
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const bound = abs + rel * Math.abs(e);
    const diff = Math.abs(a - e);
    // NaN compares false everywhere, so test the negation to catch it.
    if (!(diff <= bound) && !(a === e)) {
      const excess = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff - bound;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (worst >= 0) {
    throw new ConformanceError(
      `expectClose: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(|diff| = ${Math.abs(actual[worst] - expected[worst])}, tolerance abs ${abs} + rel ${rel})`,
    );
  }
}

/** Mean and sample standard deviation (n − 1), in float64 with two passes, for statistical checks. */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  if (n === 1) return { mean, std: 0 };
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    ss += d * d;
  }
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

/**
 * Runs `fn` and asserts `tf.memory().numTensors` is back where it started (plus `allowed`); why: a
 * sampler or training step that leaks one tensor per step exhausts memory only in long runs.
 * `fn` must dispose what it creates or return plain data; its result is passed through.
 */
export async function expectNoTensorLeak<T>(fn: () => T | Promise<T>, allowed = 0): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after - before > allowed) {
    throw new ConformanceError(
      `expectNoTensorLeak: ${after - before} tensor(s) leaked (numTensors ${before} → ${after}` +
        `${allowed ? `, ${allowed} allowed` : ''}); wrap steps in tf.tidy or dispose intermediate tensors`,
    );
  }
  return result;
}
