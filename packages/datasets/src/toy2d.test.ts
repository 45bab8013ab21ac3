import { ConfigError, type Dataset, parseOptions, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { checkerboardDataset } from './checkerboard.js';
import { circlesDataset } from './circles.js';
import { eightGaussiansDataset } from './eight-gaussians.js';
import { moonsDataset } from './moons.js';
import { pinwheelDataset } from './pinwheel.js';
import { ringsDataset } from './rings.js';
import { swissRollDataset } from './swiss-roll.js';
import { twoSpiralsDataset } from './two-spirals.js';
import { unstandardize } from './util.js';

const toys = [moonsDataset, swissRollDataset, eightGaussiansDataset, checkerboardDataset, circlesDataset, ringsDataset, pinwheelDataset, twoSpiralsDataset];

/** Creates a toy dataset through its schema, as the runner does. */
// biome-ignore lint/suspicious/noExplicitAny: the toys have different option types.
function makeToy(plugin: any, raw: Record<string, unknown> = {}): Dataset {
  return plugin.create(parseOptions(plugin.options, raw, 'dataset'), { seed: 0, print: () => {}, interactive: false }) as Dataset;
}
const loadData = (ds: Dataset, seed: number) => (ds.load(new Rng(seed)) as { data: Float32Array; count: number }).data;

describe.each(toys.map((p) => [p.name, p] as const))('%s', (name, plugin) => {
  it('has shape [2], the default size and is deterministic per seed', () => {
    const ds = makeToy(plugin, { size: 500 });
    expect(ds.name).toBe(name);
    expect(ds.shape).toEqual([2]);
    const set = ds.load(new Rng(1)) as { data: Float32Array; count: number; fresh?: unknown };
    expect(set.count).toBe(500);
    expect(set.data.length).toBe(1000);
    expect(set.fresh).toBeUndefined();
    expect(Array.from(loadData(ds, 1))).toEqual(Array.from(set.data));
    expect(Array.from(loadData(ds, 2))).not.toEqual(Array.from(set.data));
    expect(set.data.every(Number.isFinite)).toBe(true);
    expect((makeToy(plugin).load(new Rng(1)) as { count: number }).count).toBe(10_000);
  });

  it('standardises to mean 0, std 1 and the map is reversible', () => {
    const n = 20_000;
    const std = makeToy(plugin, { size: n });
    const raw = makeToy(plugin, { size: n, standardize: false });
    const s = std.info.standardization!;
    expect(s.mean).toHaveLength(2);
    expect(raw.info.standardization).toBeUndefined();
    const x = loadData(std, 4);
    for (let j = 0; j < 2; j++) {
      let m = 0;
      let v = 0;
      for (let i = 0; i < n; i++) m += x[2 * i + j];
      m /= n;
      for (let i = 0; i < n; i++) v += (x[2 * i + j] - m) ** 2;
      v /= n;
      // The map comes from an independent fixed draw of 100k; 6 SE covers both draws (SE(std) ≲ 1.5/√n for these sets).
      expect(Math.abs(m)).toBeLessThan(6 * Math.sqrt(1 / n + 1 / 100_000));
      expect(Math.abs(Math.sqrt(v) - 1)).toBeLessThan(6 * 1.5 * Math.sqrt(1 / n + 1 / 100_000));
    }
    // Same rng → same underlying draw, so undoing the map recovers the raw points (float32 rounding aside).
    const back = unstandardize(std.reference(300, new Rng(8)) as Float32Array, s);
    const rawRef = raw.reference(300, new Rng(8)) as Float32Array;
    for (let i = 0; i < back.length; i++) expect(back[i]).toBeCloseTo(rawRef[i], 4);
  });

  it('can draw fresh data every epoch', () => {
    const set = makeToy(plugin, { size: 64, fresh: true }).load(new Rng(1)) as { count: number; fresh?: (n: number, r: Rng) => Float32Array };
    expect(set.count).toBe(64);
    const r = new Rng(3);
    const a = set.fresh!(64, r);
    expect(a.length).toBe(128);
    expect(Array.from(set.fresh!(64, r))).not.toEqual(Array.from(a));
  });

  it('rejects bad options with key paths', () => {
    const bad = (raw: Record<string, unknown>) => {
      try {
        makeToy(plugin, raw);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`).join('\n');
      }
      return 'no error';
    };
    expect(bad({ size: 0 })).toBe('dataset.size: must be a positive integer');
    expect(bad({ noise: -0.1 })).toBe('dataset.noise: must be ≥ 0');
    expect(bad({ nosie: 0.1 })).toMatch(/^dataset\.nosie: unknown key; did you mean "noise"/);
  });
});

describe('toy geometry (raw units, noise 0, against the published formulas)', () => {
  const raw = (plugin: unknown, extra: Record<string, unknown> = {}) =>
    makeToy(plugin, { size: 4000, noise: 0, standardize: false, ...extra }).reference(4000, new Rng(11)) as Float32Array;
  const points = (x: Float32Array) => Array.from({ length: x.length / 2 }, (_, i) => [x[2 * i], x[2 * i + 1]]);
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-5;

  it('moons lie on the two unit half circles (make_moons)', () => {
    const pts = points(raw(moonsDataset));
    let inner = 0;
    for (const [x, y] of pts) {
      const outer = near(Math.hypot(x, y), 1) && y >= -1e-6;
      const inn = near(Math.hypot(x - 1, y - 0.5), 1) && y <= 0.5 + 1e-6;
      if (!outer && !inn) inner = Number.NaN; // a point on neither moon fails the fraction check below
      if (!outer) inner++;
    }
    expect(Math.abs(inner / pts.length - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / pts.length));
  });

  it('swiss-roll points are (t cos t, t sin t)/5 with t in [1.5π, 4.5π]', () => {
    let worst = 0;
    for (const [x, y] of points(raw(swissRollDataset))) {
      const t = 5 * Math.hypot(x, y);
      const outside = Math.max(1.5 * Math.PI - t, t - 4.5 * Math.PI, 0);
      worst = Math.max(worst, outside, Math.abs((t * Math.cos(t)) / 5 - x), Math.abs((t * Math.sin(t)) / 5 - y));
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it('circles have radii 3 and 1.5; rings radii 3, 2.25, 1.5, 0.75', () => {
    expect(points(raw(circlesDataset)).every(([x, y]) => [3, 1.5].some((r) => near(Math.hypot(x, y), r)))).toBe(true);
    const counts = [0, 0, 0, 0];
    const radii = [3, 2.25, 1.5, 0.75];
    for (const [x, y] of points(raw(ringsDataset))) {
      const k = radii.findIndex((r) => near(Math.hypot(x, y), r));
      counts[k < 0 ? 0 : k] += k < 0 ? Number.NaN : 1; // a point on no ring poisons the counts
    }
    for (const c of counts) expect(Math.abs(c / 4000 - 0.25)).toBeLessThan(5 * Math.sqrt((0.25 * 0.75) / 4000));
  });

  it('pinwheel with no spread collapses to one point per arm at radius 2', () => {
    const pts = points(raw(pinwheelDataset, { radialStd: 0, arms: 3 }));
    const angles = new Set(pts.map(([x, y]) => Math.round(Math.atan2(y, x) * 1e4)));
    expect(angles.size).toBe(3);
    expect(pts.every(([x, y]) => near(Math.hypot(x, y), 2))).toBe(true);
    // FFJORD: angle φ = 2πk/K + rate·e, point 2·(cos φ, −sin φ); k = 0 gives atan2 = −0.25e.
    expect(angles.has(Math.round(-0.25 * Math.E * 1e4))).toBe(true);
  });

  it('two-spirals are point-symmetric (mirrored spiral) and bounded by (3π + 0.5√2)/3', () => {
    const pts = points(raw(twoSpiralsDataset));
    expect(Math.max(...pts.map(([a, b]) => Math.hypot(a, b)))).toBeLessThanOrEqual((3 * Math.PI + 0.5 * Math.SQRT2) / 3 + 1e-5);
    // One spiral alone has a mean far from 0 (its jitter alone shifts it by 0.25/3); the mirrored pair averages to 0.
    for (let j = 0; j < 2; j++) {
      const m = pts.reduce((acc, p) => acc + p[j], 0) / pts.length;
      const sd = Math.sqrt(pts.reduce((acc, p) => acc + (p[j] - m) ** 2, 0) / pts.length);
      expect(Math.abs(m)).toBeLessThan((5 * sd) / Math.sqrt(pts.length));
    }
  });

  it('checkerboard points lie in the 8 filled squares of side 2, uniformly', () => {
    const ds = makeToy(checkerboardDataset, { standardize: false });
    const centers = ds.info.modes!.centers;
    expect(centers).toHaveLength(8);
    const counts = new Array(8).fill(0);
    for (const [x, y] of points(raw(checkerboardDataset))) {
      const k = centers.findIndex(([cx, cy]) => Math.abs(x - cx) <= 1 && Math.abs(y - cy) <= 1);
      counts[k < 0 ? 0 : k] += k < 0 ? Number.NaN : 1; // a point outside every square poisons the counts
    }
    for (const c of counts) expect(Math.abs(c / 4000 - 1 / 8)).toBeLessThan(5 * Math.sqrt(((1 / 8) * (7 / 8)) / 4000));
  });

  it('eight-gaussians: exact mixture and modes, mapped into model space', () => {
    const rawDs = makeToy(eightGaussiansDataset, { standardize: false });
    expect(rawDs.info.mixture!.means[0]).toEqual([4 / 1.414, 0]);
    expect(rawDs.info.mixture!.stds[0]).toEqual([0.5 / 1.414, 0.5 / 1.414]);
    const ds = makeToy(eightGaussiansDataset, { size: 16_000 });
    const { mixture, modes, standardization: s } = ds.info;
    expect(modes!.centers[0][0]).toBeCloseTo((4 / 1.414 - s!.mean[0]) / s!.std[0], 10);
    expect(mixture!.stds[0][1]).toBeCloseTo(0.5 / 1.414 / s!.std[1], 10);
    // Points assigned to their nearest centre fall within 3σ with probability P(χ²₂ ≤ 9) = 1 − e^{−4.5}.
    const x = loadData(ds, 2);
    let inside = 0;
    const n = x.length / 2;
    for (let i = 0; i < n; i++) {
      const d = Math.min(...modes!.centers.map(([a, b]) => Math.hypot(x[2 * i] - a, x[2 * i + 1] - b)));
      if (d <= modes!.radius!) inside++;
    }
    const p = 1 - Math.exp(-4.5);
    // Standardisation is nearly isotropic here (std ratio ≈ 1), so the circular radius is a fair test.
    expect(Math.abs(inside / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 0.003);
    // Mixture moments in model space: E[x] = Σwμ, Var = Σw(σ² + μ²) − E[x]² ≈ (0, 1) after standardising.
    for (let j = 0; j < 2; j++) {
      const mu = mixture!.means.reduce((a, m, k) => a + mixture!.weights[k] * m[j], 0);
      const second = mixture!.means.reduce((a, m, k) => a + mixture!.weights[k] * (m[j] ** 2 + mixture!.stds[k][j] ** 2), 0);
      expect(Math.abs(mu)).toBeLessThan(0.02);
      expect(Math.abs(second - mu * mu - 1)).toBeLessThan(0.02);
    }
  });
});
