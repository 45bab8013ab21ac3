import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(42).normalArray(100);
    const b = new Rng(42).normalArray(100);
    const c = new Rng(43).normalArray(100);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('draws standard normals with mean 0 and variance 1 within 5 standard errors', () => {
    const n = 200_000;
    const x = new Rng(1).normalArray(n);
    let m = 0;
    for (const v of x) m += v;
    m /= n;
    let v2 = 0;
    for (const v of x) v2 += (v - m) ** 2;
    v2 /= n - 1;
    expect(Math.abs(m)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(v2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it('draws uniform integers without bias (chi-square over 10 bins)', () => {
    const rng = new Rng(7);
    const counts = new Array(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[rng.int(10)]++;
    const e = n / 10;
    const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(27.9); // 99.9th percentile of chi-square with 9 degrees of freedom
  });

  it('makes permutations of 0..n-1', () => {
    const p = new Rng(3).permutation(1000);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('forks independent, reproducible streams', () => {
    const r = new Rng(5);
    const a = r.fork('train').normalArray(10);
    const b = new Rng(5).fork('train').normalArray(10);
    const c = r.fork('sample').normalArray(10);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('rejects bad bounds', () => {
    expect(() => new Rng(1).int(0)).toThrow(RangeError);
    expect(() => new Rng(Number.NaN)).toThrow(RangeError);
  });
});
