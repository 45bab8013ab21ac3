import { type DatasetInfo, type Metric, PluginError, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { assignModes, modeSpec, modesOptions, modesMetric, totalVariation } from './modes.js';
import { ctxFor } from './test-helpers.js';

const make = (opts: Record<string, unknown> = {}) => modesMetric.create(modesOptions.parse(opts), { seed: 0, print: () => {}, interactive: false }) as Metric;
const f32 = (v: number[]) => new Float32Array(v);
const twoModes: DatasetInfo = {
  mixture: {
    weights: [0.5, 0.5],
    means: [
      [-2, 0],
      [2, 0],
    ],
    stds: [
      [0.5, 0.5],
      [0.5, 0.5],
    ],
  },
};
type Detailed = { value: number; details: Record<string, number | number[] | string> };

describe('modes metric', () => {
  it('computes fractions, off-support share and TV on hand-made points', async () => {
    // Radius = 3 × 0.5 = 1.5. (0.1, 0) is nearest to (2, 0) but 1.9 away; (10, 10) is nearest to (2, 0) and far.
    const x = f32([-2, 0.1, -1.9, 0, 2, 0, 0.1, 0, 10, 10]);
    const r = (await make().compute(x, f32([0, 0]), ctxFor([2], twoModes))) as Detailed;
    expect(r.details.modeFractions).toEqual([2 / 5, 3 / 5]);
    expect(r.details.expectedWeights).toEqual([0.5, 0.5]);
    expect(r.details.offSupport).toBeCloseTo(2 / 5, 12);
    expect(r.details.missedModes).toBe(0);
    expect(r.details.radius).toEqual([1.5, 1.5]);
    expect(r.value).toBeCloseTo(0.1, 12);
  });

  it('counts a mode as missed below missedThreshold × its weight (boundary not missed)', async () => {
    const at = (k0: number, k1: number) => f32([...Array(k0).fill([-2, 0]).flat(), ...Array(k1).fill([2, 0]).flat()]);
    const ref = f32([0, 0]);
    // 1 of 8 = 0.125 = 0.25 × 0.5: exactly on the threshold → not missed.
    expect(((await make().compute(at(7, 1), ref, ctxFor([2], twoModes))) as Detailed).details.missedModes).toBe(0);
    // 1 of 10 = 0.1 < 0.125 → missed.
    const r = (await make().compute(at(9, 1), ref, ctxFor([2], twoModes))) as Detailed;
    expect(r.details.missedModes).toBe(1);
    expect(r.value).toBeCloseTo(0.4, 12);
    expect(((await make({ missedThreshold: 0.1 }).compute(at(9, 1), ref, ctxFor([2], twoModes))) as Detailed).details.missedModes).toBe(0);
  });

  it('uses info.modes (uniform weights, declared or half-spacing radius) and the radius option', async () => {
    const info: DatasetInfo = {
      modes: {
        centers: [
          [0, 0],
          [4, 0],
          [0, 6],
        ],
      },
    };
    expect(modeSpec(info, 2).radius).toEqual([2, 2, 2]);
    expect(modeSpec({ modes: { ...info.modes!, radius: 0.5 } }, 2).radius).toEqual([0.5, 0.5, 0.5]);
    expect(modeSpec(info, 2, 1).radius).toEqual([1, 1, 1]);
    const r = (await make().compute(f32([0, 0, 0.1, 0, 3.5, 0]), f32([0, 0]), ctxFor([2], info))) as Detailed;
    expect(r.details.modeFractions).toEqual([2 / 3, 1 / 3, 0]);
    expect(r.details.missedModes).toBe(1);
    expect(r.value).toBeCloseTo(1 / 3, 12); // ½(|2/3 − 1/3| + 0 + 1/3)
    const tight = (await make({ radius: 0.05 }).compute(f32([0, 0, 0.1, 0, 3.5, 0]), f32([0, 0]), ctxFor([2], info))) as Detailed;
    expect(tight.details.offSupport).toBeCloseTo(2 / 3, 12);
  });

  it('on draws from the mixture itself: TV within multinomial noise and off-support ≈ e^{−4.5}', async () => {
    // For an isotropic 2-D Gaussian P(‖X − μ‖ > 3σ) = exp(−9/2) (chi with 2 degrees of freedom).
    const info: DatasetInfo = {
      mixture: {
        weights: [0.25, 0.75],
        means: [
          [-5, 0],
          [5, 0],
        ],
        stds: [
          [1, 1],
          [1, 1],
        ],
      },
    };
    const rng = new Rng(1);
    const n = 8000;
    const x = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const k = rng.uniform() < 0.25 ? 0 : 1;
      x[2 * i] = info.mixture!.means[k][0] + rng.normal();
      x[2 * i + 1] = rng.normal();
    }
    const r = (await make().compute(x, f32([0, 0]), ctxFor([2], info))) as Detailed;
    const p = Math.exp(-4.5);
    expect(Math.abs((r.details.offSupport as number) - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    // With two modes TV = |f₀ − w₀|, binomial sd √(w(1−w)/n).
    expect(r.value).toBeLessThan(4 * Math.sqrt((0.25 * 0.75) / n));
    expect(r.details.missedModes).toBe(0);
  });

  it('explains a dataset without modes and a dimension mismatch', () => {
    let err: unknown;
    try {
      make().compute(f32([0]), f32([0]), ctxFor([1], {}));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PluginError);
    expect((err as Error).message).toMatch(/no modes .*mixture\.means nor modes\.centers/);
    expect(() => make().compute(f32([0, 0, 0]), f32([0, 0, 0]), ctxFor([3], twoModes))).toThrow(/centre 0 has 2 coordinates but samples have 3/);
  });
});

describe('helpers', () => {
  it('assignModes breaks ties toward the lower index; totalVariation checks lengths', () => {
    expect(assignModes(f32([0]), 1, [[-1], [1]], [0.5, 0.5])).toEqual({ counts: [1, 0], offSupport: 1 });
    expect(totalVariation([1, 0], [0, 1])).toBe(1);
    expect(() => totalVariation([1], [0.5, 0.5])).toThrow(RangeError);
  });
});
