import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCsvReporter, CSV_HEADER, csvOptions } from './csv.js';
import { createJsonlReporter, jsonlOptions } from './jsonl.js';
import { ctx, epochEnd, runEnd, runStart, tempDir, unwritableDir } from './test-fixtures.js';

describe('jsonl and csv reporters', () => {
  it('stream each logged epoch as it happens (readable before the run ends)', async () => {
    const dir = tempDir();
    const jsonl = createJsonlReporter(jsonlOptions.parse({}), ctx(dir));
    const csv = createCsvReporter(csvOptions.parse({}), ctx(dir));
    for (const r of [jsonl, csv]) await r.onRunStart?.(runStart(dir));
    for (let epoch = 1; epoch <= 200; epoch++) {
      for (const r of [jsonl, csv]) await r.onEpochEnd?.(epochEnd(epoch, { meanLoss: epoch === 200 ? Number.NaN : 1 / epoch }));
      if (epoch === 100) {
        expect(readFileSync(join(dir, 'log.jsonl'), 'utf8')).toBe(`${JSON.stringify({ epoch: 100, step: 3200, loss: 0.01, learningRate: 0.001, elapsedSeconds: 1 })}\n`);
        expect(readFileSync(join(dir, 'log.csv'), 'utf8')).toBe(`${CSV_HEADER}\n100,3200,0.01,0.001,1\n`);
      }
    }
    for (const r of [jsonl, csv]) await r.onRunEnd?.(runEnd(dir));
    const lines = readFileSync(join(dir, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([100, 200]);
    expect(lines[1].loss).toBeNull(); // NaN is not JSON
    expect(readFileSync(join(dir, 'log.csv'), 'utf8').trim().split('\n')).toEqual([CSV_HEADER, '100,3200,0.01,0.001,1', '200,6400,NaN,0.001,2']);
  });

  it("writes every epoch with epochs: 'all' and honours the file name", async () => {
    const dir = tempDir();
    const r = createJsonlReporter(jsonlOptions.parse({ epochs: 'all', file: 'train.jsonl' }), ctx(dir));
    for (let epoch = 1; epoch <= 3; epoch++) await r.onEpochEnd?.(epochEnd(epoch));
    await r.onRunEnd?.(runEnd(dir));
    expect(readFileSync(join(dir, 'train.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('names the file when it cannot write', () => {
    const dir = unwritableDir();
    const r = createCsvReporter(csvOptions.parse({}), ctx(dir));
    expect(() => r.onEpochEnd?.(epochEnd(100))).toThrow(`reporter 'csv' could not write ${join(dir, 'log.csv')}`);
  });
});
