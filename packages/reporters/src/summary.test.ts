import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PluginError } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { createSummaryReporter, summaryOptions } from './summary.js';
import { ctx, runEnd, tempDir, unwritableDir } from './test-fixtures.js';

describe('summary reporter', () => {
  it('writes summary.json that round-trips, pretty-printed, with no temp file left', async () => {
    const dir = tempDir();
    const summary = { name: 'seed-1d', metrics: { w1: 0.05, w1NoiseFloor: 0.03 }, nested: { list: [1, 2], flag: true, none: null } };
    await createSummaryReporter(summaryOptions.parse({}), ctx(dir)).onRunEnd?.(runEnd(dir, { summary }));
    const text = readFileSync(join(dir, 'summary.json'), 'utf8');
    expect(JSON.parse(text)).toEqual(summary);
    expect(text).toBe(`${JSON.stringify(summary, null, 2)}\n`);
    expect(readdirSync(dir)).toEqual(['summary.json']);
  });

  it('writes typed arrays as plain arrays and non-finite numbers as null', async () => {
    const dir = tempDir();
    await createSummaryReporter(summaryOptions.parse({}), ctx(dir)).onRunEnd?.(runEnd(dir, { summary: { xs: Float32Array.from([0.5, 1]), bad: Number.NaN } }));
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))).toEqual({ xs: [0.5, 1], bad: null });
  });

  it('throws a clear error naming the path when the run directory is unwritable', async () => {
    const dir = unwritableDir();
    const r = createSummaryReporter(summaryOptions.parse({}), ctx(dir));
    const run = async () => r.onRunEnd?.(runEnd(dir));
    await expect(run()).rejects.toThrow(PluginError);
    await expect(run()).rejects.toThrow(`reporter 'summary' could not write ${join(dir, 'summary.json')}`);
    expect(existsSync(join(dir, 'summary.json'))).toBe(false);
  });
});
