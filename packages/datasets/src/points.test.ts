// `points`: inline rows become exactly the table `file` would read from the same numbers in a CSV
// (same split, same standardisation), and malformed rows are refused at their index.
import { ConfigError, instantiate, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { fileDatasetFromBytes, tableFromBytes } from './file-bytes.js';
import { parseDelimited } from './parse.js';
import { pointsDataset, pointsSlot, pointsTable } from './points.js';
import { datasetFromTable, type FileDataset } from './table.js';

const rows = Array.from({ length: 20 }, (_, i) => [i / 4, (i * 7) % 5]);
const csv = `x,y\n${rows.map((r) => r.join(',')).join('\n')}\n`;

describe('points', () => {
  it('splits and standardises the rows exactly as `file` does with the same numbers in a CSV', async () => {
    const options = { holdout: 0.2, standardize: true, splitSeed: 3 };
    const inline = (await instantiate(pointsDataset, { points: rows, ...options })) as FileDataset;
    const fromCsv = datasetFromTable(parseDelimited(csv), options, 'data.csv');
    expect(inline.shape).toEqual([2]);
    expect(inline.rows).toEqual({ total: 20, train: 16, heldOut: 4 });
    expect(inline.load(new Rng(0)).data).toEqual(fromCsv.load(new Rng(0)).data);
    expect(inline.reference(4, new Rng(1))).toEqual(fromCsv.reference(4, new Rng(1)));
    expect(inline.info).toEqual(fromCsv.info);
    // Population mean of the training rows is 0 after standardisation, by construction.
    const train = inline.load(new Rng(0)).data;
    expect(
      Array.from(train)
        .filter((_, i) => i % 2 === 0)
        .reduce((a, b) => a + b, 0) / 16,
    ).toBeCloseTo(0, 6);
  });

  it('takes 1-D rows as numbers and refuses ragged or non-finite rows at their index', () => {
    expect(pointsTable([1, 2, 3]).shape).toEqual([1]);
    expect(() => pointsTable([[0, 1], [2]])).toThrow(ConfigError);
    expect(() => pointsTable([[0, 1], [2]])).toThrow('dataset.points[1]: has 1 value(s) as a list; row 0 has 2 as a list: every row must have the same shape');
    expect(() => pointsTable([0, [1]])).toThrow('dataset.points[1]');
    expect(() => pointsTable([0, Number.NaN])).toThrow('dataset.points[1]: value 0 is NaN; every value must be a finite number');
    expect(pointsSlot([1, 2])).toEqual({ use: 'points', options: { points: [1, 2] } });
  });
});

describe('file from bytes', () => {
  it('parses by extension as Node’s file does, and asks for a file the page does not hold', async () => {
    const bytes = new TextEncoder().encode(csv);
    expect(tableFromBytes(bytes, 'data.csv', 'auto')).toEqual(parseDelimited(csv));
    expect(tableFromBytes(new TextEncoder().encode('[[1, 2], [3, 4]]'), 'd.json', 'auto').shape).toEqual([2]);
    expect(() => tableFromBytes(new TextEncoder().encode('x,y\n1,2\n3\n'), 'bad.csv', 'auto')).toThrow(/dataset\.path: bad\.csv: line 3/);
    const plugin = fileDatasetFromBytes((p) => (p === 'data.csv' ? bytes : undefined));
    const ds = (await instantiate(plugin, { path: 'data.csv' } as never)) as FileDataset;
    expect(ds.rows.total).toBe(20);
    await expect(async () => instantiate(plugin, { path: 'other.csv' } as never)).rejects.toThrow(
      'dataset.path: other.csv is not loaded in this page: drop the file (or choose it) again',
    );
  });
});
