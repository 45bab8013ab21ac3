import { ConfigError, parseOptions, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { createGaussianMixture, gaussianMixtureDataset, sampleMixture } from './gaussian-mixture.js';

const seedConfig = {
  components: [
    { mean: -2, std: 0.5 },
    { mean: 2, std: 0.5 },
  ],
  size: 1000,
};
const make = (raw: unknown) => createGaussianMixture(parseOptions(gaussianMixtureDataset.options, raw, 'dataset'));
const issuesOf = (raw: unknown): string[] => {
  try {
    make(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
};

describe('gaussian-mixture', () => {
  it('reproduces the reference data: 1-D, 500 points per component, shuffled', () => {
    const ds = make(seedConfig);
    expect(ds.shape).toEqual([1]);
    const set = ds.load(new Rng(42)) as { data: Float32Array; count: number; fresh?: unknown };
    expect(set.count).toBe(1000);
    expect(set.fresh).toBeUndefined();
    // Components are 8σ apart, so the sign identifies the component for every realistic draw.
    const neg = set.data.filter((x) => x < 0).length;
    expect(neg).toBe(500);
    // Shuffled: the first half is not all one component (P(all 500 negative) ≈ 0 after a shuffle).
    const firstHalfNeg = set.data.subarray(0, 500).filter((x) => x < 0).length;
    expect(firstHalfNeg).toBeGreaterThan(200);
    expect(firstHalfNeg).toBeLessThan(300);
    expect(ds.info.mixture).toEqual({ weights: [0.5, 0.5], means: [[-2], [2]], stds: [[0.5], [0.5]] });
    expect(ds.info.modes?.centers).toEqual([[-2], [2]]);
  });

  it('stratified counts follow largest-remainder rounding exactly', () => {
    const ds = make({
      components: [
        { mean: -10, std: 0.1, weight: 1 },
        { mean: 0, std: 0.1, weight: 1 },
        { mean: 10, std: 0.1, weight: 1 },
      ],
      size: 100,
    });
    const x = (ds.load(new Rng(1)) as { data: Float32Array }).data;
    const counts = [x.filter((v) => v < -5).length, x.filter((v) => v > -5 && v < 5).length, x.filter((v) => v > 5).length];
    // 100/3 = 33.33 each: remainders tie, the earliest component gets the extra point.
    expect(counts).toEqual([34, 33, 33]);
  });

  it('matches the mixture mean and variance within sampling error (2-D, unequal weights)', () => {
    const m = {
      dim: 2,
      weights: [0.25, 0.75],
      means: [
        [0, 1],
        [4, -1],
      ],
      stds: [
        [1, 0.5],
        [0.5, 2],
      ],
    };
    const n = 40_000;
    for (const stratified of [true, false]) {
      const x = sampleMixture(m, n, new Rng(7), stratified);
      for (let j = 0; j < 2; j++) {
        // Closed forms: E[x] = Σ wᵢμᵢ;  Var[x] = Σ wᵢ(σᵢ² + μᵢ²) − E[x]².
        const mu = m.weights.reduce((a, w, i) => a + w * m.means[i][j], 0);
        const second = m.weights.reduce((a, w, i) => a + w * (m.stds[i][j] ** 2 + m.means[i][j] ** 2), 0);
        const varTrue = second - mu * mu;
        let s = 0;
        for (let i = 0; i < n; i++) s += x[2 * i + j];
        const mean = s / n;
        let v = 0;
        let m4 = 0;
        for (let i = 0; i < n; i++) {
          const d = x[2 * i + j] - mean;
          v += d * d;
          m4 += d ** 4;
        }
        v /= n;
        m4 /= n;
        // 5 standard errors: SE(mean) = √(Var/n); SE(sample variance) = √((μ₄ − σ⁴)/n), μ₄ estimated from the sample.
        expect(Math.abs(mean - mu)).toBeLessThan(5 * Math.sqrt(varTrue / n));
        expect(Math.abs(v - varTrue)).toBeLessThan(5 * Math.sqrt((m4 - v * v) / n));
      }
    }
  });

  it('non-stratified draws pick components in proportion to their weights', () => {
    const ds = make({
      components: [
        { mean: -5, std: 0.1, weight: 1 },
        { mean: 5, std: 0.1, weight: 3 },
      ],
      size: 20_000,
      stratified: false,
    });
    const x = (ds.load(new Rng(3)) as { data: Float32Array }).data;
    const frac = x.filter((v) => v > 0).length / 20_000;
    expect(Math.abs(frac - 0.75)).toBeLessThan(5 * Math.sqrt((0.75 * 0.25) / 20_000));
    expect(ds.info.mixture?.weights).toEqual([0.25, 0.75]);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const ds = make(seedConfig);
    const a = (ds.load(new Rng(5)) as { data: Float32Array }).data;
    const b = (ds.load(new Rng(5)) as { data: Float32Array }).data;
    const c = (ds.load(new Rng(6)) as { data: Float32Array }).data;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(ds.reference(50, new Rng(9)) as Float32Array)).toEqual(Array.from(ds.reference(50, new Rng(9)) as Float32Array));
  });

  it('broadcasts scalars to `dim` and infers the dimension from vectors', () => {
    const a = make({ components: [{ mean: 1, std: 2 }], dim: 3, size: 4 });
    expect(a.shape).toEqual([3]);
    expect(a.info.mixture?.means).toEqual([[1, 1, 1]]);
    expect(a.info.mixture?.stds).toEqual([[2, 2, 2]]);
    const b = make({
      components: [
        { mean: 0, std: [1, 2] },
        { mean: [3, 4], std: 1 },
      ],
      size: 4,
    });
    expect(b.shape).toEqual([2]);
    expect(b.info.mixture?.means).toEqual([
      [0, 0],
      [3, 4],
    ]);
    expect(b.info.mixture?.stds).toEqual([
      [1, 2],
      [1, 1],
    ]);
  });

  it('draws fresh data every epoch when size is omitted', () => {
    const ds = make({ components: [{ mean: 0, std: 1 }] });
    const set = ds.load(new Rng(1)) as { data: Float32Array; count: number; fresh?: (n: number, r: Rng) => Float32Array };
    expect(set.count).toBe(1000);
    expect(set.data.length).toBe(1000);
    expect(set.fresh).toBeTypeOf('function');
    const r = new Rng(2);
    const e1 = set.fresh!(10, r);
    const e2 = set.fresh!(10, r);
    expect(e1.length).toBe(10);
    expect(Array.from(e1)).not.toEqual(Array.from(e2));
    const custom = make({ components: [{ mean: 0, std: 1 }], epochSize: 64 }).load(new Rng(1)) as { count: number };
    expect(custom.count).toBe(64);
  });

  it('reports bad options with their full key paths', () => {
    expect(issuesOf({ components: [{ mean: 0, std: 1 }], size: 0 })).toEqual(['dataset.size: must be a positive integer']);
    expect(issuesOf({ components: [{ mean: 0, std: 1 }], size: -5 })[0]).toMatch(/^dataset\.size: /);
    expect(issuesOf({ components: [{ mean: 0, std: 1 }], size: 2.5 })[0]).toMatch(/^dataset\.size: must be a positive integer/);
    expect(
      issuesOf({
        components: [
          { mean: 0, std: 1 },
          { mean: 1, std: 0 },
        ],
      }),
    ).toEqual(['dataset.components[1].std: must be > 0, got 0']);
    expect(issuesOf({ components: [{ mean: [0, 0], std: [1, -1] }] })).toEqual(['dataset.components[0].std[1]: must be > 0, got -1']);
    expect(issuesOf({ components: [{ mean: 0, std: 1, weight: 0 }] })).toEqual(['dataset.components[0].weight: must be > 0']);
    expect(
      issuesOf({
        components: [
          { mean: [0, 0], std: 1 },
          { mean: [1, 2, 3], std: 1 },
        ],
      }),
    ).toEqual(['dataset.components[1].mean: has 3 values but components[0].mean sets the dimension to 2']);
    expect(issuesOf({ components: [{ mean: [0, 0], std: 1 }], dim: 3 })).toEqual(['dataset.components[0].mean: has 2 values but dim sets the dimension to 3']);
    expect(issuesOf({ components: [] })).toEqual(['dataset.components: needs at least one component']);
    expect(issuesOf({ components: [{ mean: 'a', std: 1 }] })).toEqual(['dataset.components[0].mean: must be a finite number or a non-empty array of finite numbers']);
    expect(issuesOf({ components: [{ mean: 0, std: 1 }], sise: 10 })[0]).toMatch(/^dataset\.sise: unknown key; did you mean "size"/);
  });

  it('create() itself rejects an inconsistent mixture passed without the schema', () => {
    expect(() => createGaussianMixture({ components: [{ mean: 0, std: -1 }], epochSize: 10, stratified: true })).toThrow(/dataset\.components\[0\]\.std: must be > 0/);
  });
});
