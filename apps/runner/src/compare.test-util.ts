/** Comparisons shared by the runner's parity tests (fused paths against tfjs). */
import { expect } from 'vitest';

/** Largest absolute value. */
export const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Largest absolute difference (and the two arrays have one length). */
export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
