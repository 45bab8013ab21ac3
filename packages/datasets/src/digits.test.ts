import { ConfigError, parseOptions, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { type DigitsDataset, digitsDataset, loadMnistDigit } from './digits.js';

const ctx = { seed: 0, print: () => {}, interactive: false };
const make = async (raw: Record<string, unknown>) => (await digitsDataset.create(parseOptions(digitsDataset.options, raw, 'dataset'), ctx)) as DigitsDataset;
const issueOf = async (raw: Record<string, unknown>): Promise<string> => {
  try {
    await make(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`).join('\n');
  }
  return 'no error';
};
const rowKey = (x: Float32Array, i: number, D: number) => Array.from(x.subarray(i * D, (i + 1) * D)).join(',');

describe('digits', () => {
  it('ships 1001 zeros and 1127 ones as 28×28 grey levels in [0, 1]', async () => {
    const zeros = await loadMnistDigit(0);
    const ones = await loadMnistDigit(1);
    expect(zeros.length).toBe(1001 * 784);
    expect(ones.length).toBe(1127 * 784);
    expect(Math.min(...zeros.subarray(0, 784))).toBe(0);
    expect(Math.max(...zeros.subarray(0, 784))).toBeLessThanOrEqual(1);
  });

  it('holds out 10 % of each digit, keeps the split disjoint and labels aligned with the data', async () => {
    const ds = await make({ digits: [0, 1] });
    // round(0.1·1001) = 100 and round(0.1·1127) = 113 held out.
    expect(ds.rows).toEqual({ train: 901 + 1014, heldOut: 213 });
    expect(ds.shape).toEqual([28, 28, 1]);
    expect(ds.info.range).toEqual([-1, 1]);
    const set = ds.load(new Rng(0)) as { data: Float32Array; count: number };
    expect(set.count).toBe(1915);
    const labels = ds.info.labels!;
    expect(labels.length).toBe(1915);
    expect(labels.filter((l) => l === 0).length).toBe(901);
    expect(set.data.every((v) => v >= -1 && v <= 1)).toBe(true);
    // Labels match the images: a "1" lights far fewer pixels than a "0" on average.
    const ink = (i: number) => set.data.subarray(i * 784, (i + 1) * 784).reduce((a, v) => a + (v + 1) / 2, 0);
    const meanInk = (d: number) => {
      const idx = Array.from(labels.keys()).filter((i) => labels[i] === d);
      return idx.reduce((a, i) => a + ink(i), 0) / idx.length;
    };
    expect(meanInk(0)).toBeGreaterThan(1.5 * meanInk(1));
    const train = new Set(Array.from({ length: 1915 }, (_, i) => rowKey(set.data, i, 784)));
    const ref = ds.reference(213, new Rng(1)) as Float32Array;
    const refKeys = Array.from({ length: 213 }, (_, i) => rowKey(ref, i, 784));
    expect(new Set(refKeys).size).toBe(213);
    expect(refKeys.filter((k) => train.has(k)).length).toBe(0);
    expect(ds.warnings).toEqual([]);
    ds.reference(300, new Rng(1));
    expect(ds.warnings[0]).toMatch(/300 reference images requested but only 213 are held out/);
  });

  it('draws the noise floor from training images only: never a held-out one, and from the whole training split', async () => {
    const ds = await make({ digits: [0], resolution: 14, size: 20 });
    const D = 196;
    const held = ds.rows.heldOut;
    const refKeys = new Set(Array.from({ length: held }, (_, i) => rowKey(ds.reference(held, new Rng(1)) as Float32Array, i, D)));
    const floor = ds.perfectDraw!(500, new Rng(2)) as Float32Array;
    const floorKeys = Array.from({ length: 500 }, (_, i) => rowKey(floor, i, D));
    expect(floorKeys.filter((k) => refKeys.has(k)).length).toBe(0);
    expect(new Set(floorKeys).size).toBeGreaterThan(20); // not only the `size` images used for training
    expect(ds.warnings).toEqual([]);
    // More than the training split holds: with replacement, and a warning that the floor errs high.
    ds.perfectDraw!(2000, new Rng(3));
    expect(ds.warnings).toHaveLength(1);
    expect(ds.warnings[0]).toMatch(/^digits: the noise floor needs 2000 points disjoint from the reference but only \d+ training images exist; drawn with replacement/);
  });

  it('14×14 is the 2×2 mean pool of the 28×28 image, and size takes a fixed subset', async () => {
    const full = await make({ digits: [7], size: 50 });
    const small = await make({ digits: [7], size: 50, resolution: 14 });
    expect(small.shape).toEqual([14, 14, 1]);
    const a = (full.load(new Rng(0)) as { data: Float32Array }).data;
    const b = (small.load(new Rng(5)) as { data: Float32Array; count: number }).data;
    expect(b.length).toBe(50 * 196);
    for (const img of [0, 49]) {
      for (const [y, x] of [
        [7, 7],
        [3, 10],
        [13, 0],
      ]) {
        const p = (r: number, c: number) => a[img * 784 + r * 28 + c];
        const expected = (p(2 * y, 2 * x) + p(2 * y, 2 * x + 1) + p(2 * y + 1, 2 * x) + p(2 * y + 1, 2 * x + 1)) / 4;
        expect(b[img * 196 + y * 14 + x]).toBeCloseTo(expected, 5);
      }
    }
    // Deterministic and independent of the run seed.
    expect(Array.from((full.load(new Rng(9)) as { data: Float32Array }).data)).toEqual(Array.from(a));
  });

  it('rejects bad options with key paths', async () => {
    expect(await issueOf({ digits: [3, 10] })).toBe('dataset.digits[1]: must be a digit 0–9');
    expect(await issueOf({ digits: [3, 3] })).toBe('dataset.digits: lists a digit twice');
    expect(await issueOf({ resolution: 20 })).toBe('dataset.resolution: must be 28 or 14');
    expect(await issueOf({ digits: [5], size: 5000 })).toBe('dataset.size: asks for 5000 images but digits [5] have only 777 training images (holdout 0.1)');
  });
});
