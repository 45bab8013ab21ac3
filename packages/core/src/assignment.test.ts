import { describe, expect, it } from 'vitest';
import { minCostAssignment } from './assignment.js';
import { Rng } from './rng.js';

/** The least total over all n! permutations: the independent answer for small n. */
function bruteForceMin(cost: ArrayLike<number>, n: number): number {
  const p = Array.from({ length: n }, (_, i) => i);
  let best = Number.POSITIVE_INFINITY;
  const walk = (k: number) => {
    if (k === n) {
      best = Math.min(best, total(cost, n, p));
      return;
    }
    for (let i = k; i < n; i++) {
      [p[k], p[i]] = [p[i], p[k]];
      walk(k + 1);
      [p[k], p[i]] = [p[i], p[k]];
    }
  };
  walk(0);
  return best;
}

const total = (cost: ArrayLike<number>, n: number, p: ArrayLike<number>) => Array.from(p).reduce((s, j, i) => s + cost[i * n + j], 0);
const isPermutation = (p: ArrayLike<number>, n: number) => p.length === n && new Set(Array.from(p)).size === n && Array.from(p).every((j) => j >= 0 && j < n);

describe('minCostAssignment (Jonker & Volgenant 1987 shortest augmenting paths)', () => {
  it('matches brute force on 600 random matrices up to 7 × 7, with many ties (small integers) and without', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 600; trial++) {
      const n = 1 + (trial % 7);
      const ties = trial % 2 === 0;
      const cost = Float64Array.from({ length: n * n }, () => (ties ? rng.int(5) : rng.normal() * 3));
      const p = minCostAssignment(cost, n);
      expect(isPermutation(p, n)).toBe(true);
      expect(total(cost, n, p)).toBeCloseTo(bruteForceMin(cost, n), 9);
    }
  });

  it('pairs sorted with sorted under squared cost in one dimension (the monotone optimal transport map), n = 200', () => {
    const rng = new Rng(5);
    const n = 200;
    const x = Array.from({ length: n }, () => rng.normal());
    const y = Array.from({ length: n }, () => 3 * rng.uniform() - 1);
    const cost = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) cost[i * n + j] = (x[i] - y[j]) ** 2;
    const p = minCostAssignment(cost, n);
    const rankX = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
    const rankY = Array.from({ length: n }, (_, j) => j).sort((a, b) => y[a] - y[b]);
    for (let r = 0; r < n; r++) expect(p[rankX[r]]).toBe(rankY[r]);
  });

  it('solves the trivial sizes and refuses a non-square or non-finite matrix', () => {
    expect(Array.from(minCostAssignment([], 0))).toEqual([]);
    expect(Array.from(minCostAssignment([4], 1))).toEqual([0]);
    expect(Array.from(minCostAssignment([1, 0, 0, 1], 2))).toEqual([1, 0]);
    expect(() => minCostAssignment([1, 2, 3], 2)).toThrow(/3 entries, not 2 × 2/);
    expect(() => minCostAssignment([1, Number.NaN, 3, 4], 2)).toThrow(/non-finite/);
    expect(() => minCostAssignment([Number.POSITIVE_INFINITY, 1, 2, 3], 2)).toThrow(/non-finite/);
  });
});
