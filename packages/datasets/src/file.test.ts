import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, encodeNpy, parseOptions, Rng } from '@diffusionlab/core';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetFromTable, type FileDataset, fileDataset } from './file.js';
import { unstandardize } from './util.js';
import { rmSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'dl-datasets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, content: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const ctx = { seed: 0, print: () => {}, interactive: false };
const make = async (raw: Record<string, unknown>) => (await fileDataset.create(parseOptions(fileDataset.options, raw, 'dataset'), ctx)) as FileDataset;
const issueOf = async (raw: Record<string, unknown>): Promise<string> => {
  try {
    await make(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`).join('\n');
  }
  return 'no error';
};

const rows = (n: number) => Array.from({ length: n }, (_, i) => `${i},${2 * i}`).join('\n');

describe('file', () => {
  it('loads a CSV, holds out a fixed 10 % and keeps train/held-out disjoint and complete', async () => {
    const ds = await make({ path: write('a.csv', `x,y\n${rows(100)}\n`) });
    expect(ds.shape).toEqual([2]);
    expect(ds.header).toEqual(['x', 'y']);
    expect(ds.rows).toEqual({ total: 100, train: 90, heldOut: 10 });
    const set = ds.load(new Rng(1)) as { data: Float32Array; count: number };
    expect(set.count).toBe(90);
    const train = new Set(Array.from({ length: 90 }, (_, i) => set.data[2 * i]));
    const held = ds.reference(10, new Rng(3)) as Float32Array;
    const heldIds = Array.from({ length: 10 }, (_, i) => held[2 * i]);
    for (let i = 0; i < 10; i++) expect(held[2 * i + 1]).toBe(2 * held[2 * i]); // rows stay intact
    expect(new Set(heldIds).size).toBe(10); // without replacement
    for (const id of heldIds) expect(train.has(id)).toBe(false);
    expect(train.size + 10).toBe(100);
    expect(ds.warnings).toEqual([]);
    // The split is independent of the run seed: a second create and another load agree.
    const again = await make({ path: join(dir, 'a.csv') });
    expect(Array.from((again.load(new Rng(99)) as { data: Float32Array }).data)).toEqual(Array.from(set.data));
    const other = await make({ path: join(dir, 'a.csv'), splitSeed: 1 });
    expect(Array.from((other.load(new Rng(1)) as { data: Float32Array }).data)).not.toEqual(Array.from(set.data));
  });

  it('draws the reference with replacement, with a warning, when more points are asked for than held out', async () => {
    const ds = await make({ path: write('b.csv', rows(20)), holdout: 0.1 });
    const ref = ds.reference(50, new Rng(2)) as Float32Array;
    expect(ref.length).toBe(100);
    expect(ds.warnings).toHaveLength(1);
    expect(ds.warnings[0]).toMatch(/50 reference points requested but only 2 held-out rows exist; drawn with replacement/);
    expect(new Set(Array.from({ length: 50 }, (_, i) => ref[2 * i])).size).toBe(2);
    const noHold = await make({ path: join(dir, 'b.csv'), holdout: 0 });
    expect(noHold.rows.heldOut).toBe(0);
    expect(noHold.warnings[0]).toMatch(/holdout is 0/);
  });

  it('standardises with training-row statistics, reversibly', async () => {
    const ds = await make({ path: write('c.json', JSON.stringify(Array.from({ length: 50 }, (_, i) => [i, 10 + 3 * i]))), standardize: true, holdout: 0.2 });
    const s = ds.info.standardization!;
    const set = ds.load(new Rng(0)) as { data: Float32Array; count: number };
    for (let j = 0; j < 2; j++) {
      const col = Array.from({ length: set.count }, (_, i) => set.data[2 * i + j]);
      const m = col.reduce((a, b) => a + b, 0) / col.length;
      const v = col.reduce((a, b) => a + (b - m) ** 2, 0) / col.length;
      expect(m).toBeCloseTo(0, 5);
      expect(v).toBeCloseTo(1, 5);
    }
    const back = unstandardize(ds.reference(10, new Rng(1)) as Float32Array, s);
    for (let i = 0; i < 10; i++) {
      expect(back[2 * i]).toBeCloseTo(Math.round(back[2 * i]), 4);
      expect(back[2 * i + 1]).toBeCloseTo(10 + 3 * back[2 * i], 3);
    }
  });

  it('reads .npy (any number of columns, and image-shaped rows)', async () => {
    const ds = await make({
      path: write(
        'd.npy',
        encodeNpy(
          Float32Array.from({ length: 30 }, (_, i) => i),
          [10, 3],
        ),
      ),
      holdout: 0,
    });
    expect(ds.shape).toEqual([3]);
    expect(Array.from((ds.load(new Rng(0)) as { data: Float32Array }).data)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const img = await make({ path: write('e.npy', encodeNpy(new Float32Array(5 * 4 * 4), [5, 4, 4, 1])) });
    expect(img.shape).toEqual([4, 4, 1]);
  });

  it('reports malformed files at dataset.path, naming file, line and column', async () => {
    const p = write('bad.csv', 'x,y\n1,2\n3,oops\n');
    expect(await issueOf({ path: p })).toBe(`dataset.path: ${p}: line 3, column 2 ("y"): "oops" is not a number`);
    const q = write('ragged.csv', '1,2\n3\n');
    expect(await issueOf({ path: q })).toBe(`dataset.path: ${q}: line 2, column 2: row has 1 columns but line 1 has 2`);
    const r = write('bad.json', '[[1, 2], [3, Infinity]]');
    expect(await issueOf({ path: r })).toMatch(/^dataset\.path: .*bad\.json: line 1, column 14: non-finite value "Infinity"/);
    // format overrides the extension.
    const t = write('data.txt', '[1, 2, 3]');
    expect((await make({ path: t, format: 'json', holdout: 0 })).rows.total).toBe(3);
  });

  it('reports missing or unreadable files and bad options with key paths', async () => {
    expect(await issueOf({ path: join(dir, 'nope.csv') })).toBe(`dataset.path: cannot read ${join(dir, 'nope.csv')}: no such file`);
    mkdirSync(join(dir, 'folder.csv'));
    expect(await issueOf({ path: join(dir, 'folder.csv') })).toBe(`dataset.path: cannot read ${join(dir, 'folder.csv')}: it is a directory`);
    expect(await issueOf({})).toMatch(/^dataset\.path: /);
    expect(await issueOf({ path: 'x.csv', holdout: 1 })).toBe('dataset.holdout: must be between 0 and 0.9');
    expect(await issueOf({ path: 'x.csv', format: 'xls' })).toMatch(/^dataset\.format: .*/);
    expect(await issueOf({ path: write('one.csv', '1,2\n') })).toBe(`dataset.holdout: ${join(dir, 'one.csv')} has 1 row(s); holding out 1 leaves none to train on`);
  });

  it('datasetFromTable works on in-memory tables', () => {
    const ds = datasetFromTable({ data: Float64Array.from([1, 2, 3, 4]), count: 4, shape: [1] }, { standardize: false, holdout: 0.5, splitSeed: 0 });
    expect(ds.rows).toEqual({ total: 4, train: 2, heldOut: 2 });
  });
});
