import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EpochLog, readLossLog, truncateEpochLog } from './epoch-log.js';

describe('per-epoch logs', () => {
  it('are cut back to a checkpoint epoch on resume, torn last line included, then appended without duplicates', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dl-log-')), 'metrics.jsonl');
    const log = new EpochLog(path, false);
    for (let epoch = 1; epoch <= 7; epoch++) log.append({ epoch, step: 8 * epoch, loss: 1 / epoch });
    log.close();
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"epoch":8,"st`);
    truncateEpochLog(path, 5);
    const again = new EpochLog(path, true);
    for (let epoch = 6; epoch <= 9; epoch++) again.append({ epoch, step: 8 * epoch, loss: 1 / epoch });
    again.close();
    const epochs = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).epoch);
    expect(epochs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(readLossLog(path, 3)).toEqual([
      { epoch: 1, step: 8, loss: 1 },
      { epoch: 2, step: 16, loss: 0.5 },
      { epoch: 3, step: 24, loss: 1 / 3 },
    ]);
  });

  it('leave a log that needs no cutting untouched', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dl-log-')), 'loss-history.jsonl');
    writeFileSync(path, '{"epoch":1,"step":8,"loss":0.5}\n');
    truncateEpochLog(path, 1);
    expect(readFileSync(path, 'utf8')).toBe('{"epoch":1,"step":8,"loss":0.5}\n');
    truncateEpochLog(join(path, '..', 'missing.jsonl'), 1);
  });
});
