import { Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { forEachDistanceBlock } from './pairwise.js';

describe('forEachDistanceBlock', () => {
  it('matches one-pair-at-a-time distances for ragged sizes, both modes', () => {
    const rng = new Rng(1);
    for (const [na, nb, d] of [
      [1, 1, 1],
      [5, 7, 3],
      [9, 4, 10],
      [8, 13, 2],
    ]) {
      const a = rng.normalArray(na * d);
      const b = rng.normalArray(nb * d);
      const naive = (x: Float32Array, i: number, y: Float32Array, j: number) => {
        let s = 0;
        for (let c = 0; c < d; c++) s += (x[i * d + c] - y[j * d + c]) ** 2;
        return s;
      };
      const seen = new Set<string>();
      forEachDistanceBlock(a, b, d, false, (i0, rows, jStart, out) => {
        expect(jStart).toBe(0);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < nb; j++) {
            expect(out[r * nb + j]).toBeCloseTo(naive(a, i0 + r, b, j), 10);
            seen.add(`${i0 + r},${j}`);
          }
        }
      });
      expect(seen.size).toBe(na * nb);
      let upper = 0;
      forEachDistanceBlock(a, a, d, true, (i0, rows, jStart, out) => {
        expect(jStart).toBe(i0);
        for (let r = 0; r < rows; r++) {
          expect(out[r * na + i0 + r]).toBe(0); // a point is exactly 0 from itself
          for (let j = i0 + r + 1; j < na; j++) {
            expect(out[r * na + j]).toBeCloseTo(naive(a, i0 + r, a, j), 10);
            upper++;
          }
        }
      });
      expect(upper).toBe((na * (na - 1)) / 2);
    }
  });
});
