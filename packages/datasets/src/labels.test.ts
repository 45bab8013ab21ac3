import { type Dataset, parseOptions, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { eightGaussiansDataset } from './eight-gaussians.js';
import { gaussianMixtureDataset } from './gaussian-mixture.js';
import { moonsDataset } from './moons.js';
import { pinwheelDataset } from './pinwheel.js';
import { datasetFromTable } from './table.js';
import { twoSpiralsDataset } from './two-spirals.js';

const ctx = { seed: 0, print: () => {}, interactive: false };
// biome-ignore lint/suspicious/noExplicitAny: the plugins have different option types.
const make = (plugin: any, raw: Record<string, unknown>) => plugin.create(parseOptions(plugin.options, raw, 'dataset'), ctx) as Dataset;
/** FNV-1a over the bytes: a fingerprint of a draw, to compare with the one the code gave before labels existed. */
const fnv = (a: Float32Array) => {
  const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let h = 0x811c9dc5;
  for (const b of u) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16);
};

const mixture2 = {
  components: [
    { mean: -2, std: 0.5 },
    { mean: 2, std: 0.5, weight: 2 },
  ],
  size: 300,
};
// Fingerprints of load(Rng(7)).data, reference(200, Rng(8)), perfectDraw(200, Rng(9)) as main drew them before labels were added.
const cases = [
  ['moons', moonsDataset, { size: 300 }, ['6e044ad2', '7bc9173b', 'fdd7738d'], 2],
  ['eight-gaussians', eightGaussiansDataset, { size: 300 }, ['9857983c', 'cd316428', '70d0bc11'], 8],
  ['pinwheel', pinwheelDataset, { size: 300 }, ['e994d530', '2b6ca293', 'e14fad95'], 5],
  ['two-spirals', twoSpiralsDataset, { size: 300 }, ['d4222823', 'b2d1ee9', '106686c3'], 2],
  ['gaussian-mixture', gaussianMixtureDataset, mixture2, ['a00a6152', '1c740fe6', '1e3d0a4'], 2],
] as const;

describe.each(cases.map((c) => [c[0], c] as const))('%s labels', (_name, [, plugin, raw, prints, classes]) => {
  it('leaves every data draw bit-identical to the unlabelled code and labels the same rows', async () => {
    const d = make(plugin, raw);
    const set = d.load(new Rng(7)) as { data: Float32Array; labels?: Int32Array };
    expect(fnv(set.data)).toBe(prints[0]);
    expect(fnv((await d.reference(200, new Rng(8))) as Float32Array)).toBe(prints[1]);
    expect(fnv((await (d.perfectDraw ?? d.reference).call(d, 200, new Rng(9))) as Float32Array)).toBe(prints[2]);
    const ref = await d.labeledReference?.(200, new Rng(8));
    expect(fnv(ref?.data as Float32Array)).toBe(prints[1]);
    const perfect = await d.labeledPerfectDraw?.(200, new Rng(9));
    expect(fnv(perfect?.data as Float32Array)).toBe(prints[2]);
    expect(d.labelNames).toHaveLength(classes);
    for (const labels of [set.labels, ref?.labels, perfect?.labels]) {
      expect(labels).toBeInstanceOf(Int32Array);
      const seen = new Set(labels);
      expect([...seen].sort()).toEqual(Array.from({ length: classes }, (_, k) => k));
    }
  });
});

/** Index of the nearest centre to row i of a [n, D] array. */
const nearest = (x: Float32Array, i: number, centers: number[][]) => {
  const D = centers[0].length;
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  centers.forEach((c, k) => {
    const d = c.reduce((s, v, j) => s + (x[i * D + j] - v) ** 2, 0);
    if (d < bestD) [best, bestD] = [k, d];
  });
  return best;
};

describe('labels name the part each point came from', () => {
  it('gaussian-mixture: a point lies nearest its own component mean (well-separated components), stratified counts per class', () => {
    const d = make(gaussianMixtureDataset, {
      components: [
        { mean: [-5, 0], std: 0.3 },
        { mean: [5, 0], std: 0.3 },
        { mean: [0, 5], std: 0.3, weight: 2 },
      ],
      size: 400,
    });
    const set = d.load(new Rng(3)) as { data: Float32Array; labels: Int32Array };
    const means = d.info.mixture?.means as number[][];
    for (let i = 0; i < 400; i++) expect(set.labels[i]).toBe(nearest(set.data, i, means));
    expect([0, 1, 2].map((k) => set.labels.filter((l) => l === k).length)).toEqual([100, 100, 200]);
    const fresh = make(gaussianMixtureDataset, {
      components: [
        { mean: -5, std: 0.3 },
        { mean: 5, std: 0.3 },
      ],
      stratified: false,
    });
    const f = (fresh.load(new Rng(4)) as { freshLabeled: (n: number, r: Rng) => { data: Float32Array; labels: Int32Array } }).freshLabeled(300, new Rng(5));
    for (let i = 0; i < 300; i++) expect(f.labels[i]).toBe(f.data[i] < 0 ? 0 : 1);
  });

  it('eight-gaussians: nearest centre', () => {
    const d = make(eightGaussiansDataset, { size: 500, noise: 0.1 });
    const set = d.load(new Rng(1)) as { data: Float32Array; labels: Int32Array };
    const centers = d.info.mixture?.means as number[][];
    for (let i = 0; i < 500; i++) expect(set.labels[i]).toBe(nearest(set.data, i, centers));
  });

  it('moons: without noise, outer points lie on the unit circle and inner ones on the circle about (1, ½)', () => {
    const d = make(moonsDataset, { size: 300, noise: 0, standardize: false });
    const { data, labels } = d.load(new Rng(2)) as { data: Float32Array; labels: Int32Array };
    for (let i = 0; i < 300; i++) {
      const [x, y] = [data[2 * i], data[2 * i + 1]];
      const r = labels[i] === 0 ? Math.hypot(x, y) : Math.hypot(x - 1, y - 0.5);
      expect(r).toBeCloseTo(1, 5);
    }
    expect(d.labelNames).toEqual(['outer', 'inner']);
  });

  it('pinwheel: without spread, arm k sits at angle −(2πk/K + rate·e)', () => {
    const d = make(pinwheelDataset, { size: 200, noise: 0, radialStd: 0, standardize: false, arms: 4 });
    const { data, labels } = d.load(new Rng(2)) as { data: Float32Array; labels: Int32Array };
    for (let i = 0; i < 200; i++) {
      const phi = (2 * Math.PI * labels[i]) / 4 + 0.25 * Math.E;
      expect(data[2 * i]).toBeCloseTo(2 * Math.cos(phi), 5);
      expect(data[2 * i + 1]).toBeCloseTo(-2 * Math.sin(phi), 5);
    }
  });

  it('two-spirals: the second spiral is the first mirrored through the origin', () => {
    const d = make(twoSpiralsDataset, { size: 2000, noise: 0, standardize: false });
    const { data, labels } = d.load(new Rng(2)) as { data: Float32Array; labels: Int32Array };
    // Far out on the first spiral (r near 3π), −cos r·r ≈ 3π > 0 … mirrored, so x's sign splits the classes there.
    for (let i = 0; i < 2000; i++) {
      const radius = Math.hypot(data[2 * i], data[2 * i + 1]) * 3;
      if (radius > 3 * Math.PI - 0.3) expect(Math.sign(data[2 * i])).toBe(labels[i] === 0 ? 1 : -1);
    }
  });

  it('file: a label column becomes classes (sorted distinct values), is taken out of the data and follows the split', async () => {
    const rows = 50;
    const data = new Float64Array(rows * 3);
    for (let r = 0; r < rows; r++) data.set([r, 10 * r, r % 3 === 0 ? 7 : -1], r * 3);
    const d = datasetFromTable({ data, count: rows, shape: [3], header: ['a', 'b', 'cls'] }, { standardize: false, holdout: 0.2, splitSeed: 0, labelColumn: 'cls' });
    expect(d.shape).toEqual([2]);
    expect(d.labelNames).toEqual(['-1', '7']);
    const set = d.load(new Rng(0));
    expect(set.count).toBe(40);
    for (let i = 0; i < 40; i++) expect(set.labels?.[i]).toBe(set.data[2 * i] % 3 === 0 ? 1 : 0);
    const ref = await d.labeledReference?.(10, new Rng(1));
    expect(Array.from(ref?.data ?? [])).toEqual(Array.from(d.reference(10, new Rng(1)) as Float32Array));
    ref?.labels.forEach((l, i) => expect(l).toBe(ref.data[2 * i] % 3 === 0 ? 1 : 0));
    const perfect = await d.labeledPerfectDraw?.(30, new Rng(2));
    perfect?.labels.forEach((l, i) => expect(l).toBe(perfect.data[2 * i] % 3 === 0 ? 1 : 0));
  });

  it('file: a bad label column names the key and the fix', () => {
    const table = { data: new Float64Array([1, 2, 3, 4]), count: 2, shape: [2] };
    const opts = { standardize: false, holdout: 0, splitSeed: 0 };
    expect(() => datasetFromTable(table, { ...opts, labelColumn: 5 })).toThrow(/labelColumn.*2 columns/s);
    expect(() => datasetFromTable(table, { ...opts, labelColumn: 'cls' })).toThrow(/labelColumn.*no header row; give the column index/s);
  });
});
