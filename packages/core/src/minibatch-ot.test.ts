import { describe, expect, it } from 'vitest';
import { minibatchOtPairing } from './minibatch-ot.js';
import { Rng } from './rng.js';

const cost = (x: ArrayLike<number>, e: ArrayLike<number>, d: number, pairing: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < pairing.length; i++) for (let k = 0; k < d; k++) s += (x[i * d + k] - e[pairing[i] * d + k]) ** 2;
  return s;
};

describe('minibatchOtPairing (Tong et al. 2024, OT-CFM)', () => {
  it('uses every noise row once and in one dimension pairs the data and noise in sorted order', () => {
    const rng = new Rng(3);
    const b = 64;
    const x = Float32Array.from({ length: b }, () => (rng.uniform() < 0.5 ? -2 : 2) + 0.1 * rng.normal());
    const e = Float32Array.from({ length: b }, () => rng.normal());
    const p = minibatchOtPairing(x, e, 1);
    expect(new Set(p).size).toBe(b);
    const byX = Array.from({ length: b }, (_, i) => i).sort((a, c) => x[a] - x[c]);
    const byE = Array.from({ length: b }, (_, i) => i).sort((a, c) => e[a] - e[c]);
    for (let r = 0; r < b; r++) expect(p[byX[r]]).toBe(byE[r]);
  });

  it('costs no more than any of 200 random re-pairings of the same batch (2-D, 32 rows)', () => {
    const rng = new Rng(8);
    const b = 32;
    const x = Float32Array.from({ length: 2 * b }, () => rng.normal() + 3);
    const e = Float32Array.from({ length: 2 * b }, () => rng.normal());
    const best = cost(x, e, 2, minibatchOtPairing(x, e, 2));
    for (let k = 0; k < 200; k++) expect(best).toBeLessThanOrEqual(cost(x, e, 2, rng.permutation(b)) + 1e-9);
  });

  it('pairs only within a group, each group optimally on its own', () => {
    const rng = new Rng(4);
    const b = 40;
    const groups = Int32Array.from({ length: b }, () => rng.int(3));
    const x = Float32Array.from({ length: b }, () => rng.normal());
    const e = Float32Array.from({ length: b }, () => rng.normal());
    const p = minibatchOtPairing(x, e, 1, groups);
    expect(new Set(p).size).toBe(b);
    for (let i = 0; i < b; i++) expect(groups[p[i]]).toBe(groups[i]);
    // Within a group, sorted to sorted (the one-dimensional closed form).
    for (const g of [0, 1, 2]) {
      const rows = Array.from({ length: b }, (_, i) => i).filter((i) => groups[i] === g);
      const byX = rows.slice().sort((a, c) => x[a] - x[c]);
      const byE = rows.slice().sort((a, c) => e[a] - e[c]);
      byX.forEach((i, r) => expect(p[i]).toBe(byE[r]));
    }
  });

  it('refuses batches whose shapes disagree', () => {
    expect(() => minibatchOtPairing(new Float32Array(4), new Float32Array(6), 2)).toThrow(/x0 holds 4 values and noise 6/);
    expect(() => minibatchOtPairing(new Float32Array(5), new Float32Array(5), 2)).toThrow(/whole rows of 2/);
    expect(() => minibatchOtPairing(new Float32Array(4), new Float32Array(4), 2, [0])).toThrow(/1 group labels for 2 rows/);
  });
});
