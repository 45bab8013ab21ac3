/** Comparisons shared by the kernels' parity tests. */
import { expect } from 'vitest';

/** Largest absolute difference (and the two arrays have one length). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Largest absolute value. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Largest absolute difference relative to max(1, max |b|): float rounding at b's scale. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  let s = 1;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return m / s;
}
