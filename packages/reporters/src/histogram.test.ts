import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { column, createHistogramReporter, densityHistogram, finiteRange, histogramOptions, histogramSpec } from './histogram.js';
import { ctx, expectPng, sampleEvent, tempDir, unwritableDir } from './test-fixtures.js';

describe('densityHistogram', () => {
  it('matches hand-counted bins and integrates to 1', () => {
    // bins of width 1 on [0, 4]: [0,1) [1,2) [2,3) [3,4]; 4 is in the last (closed) bin, 9 and NaN are dropped.
    const bins = densityHistogram([0, 0.5, 1, 2.5, 4, 9, Number.NaN], 4, 0, 4);
    expect(bins.map((b) => b.density)).toEqual([2 / 5, 1 / 5, 1 / 5, 1 / 5]);
    expect(bins.map((b) => [b.lo, b.hi])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    const wide = densityHistogram(sampleEvent().samples, 50, ...finiteRange(sampleEvent().samples));
    expect(wide.reduce((s, b) => s + b.density * (b.hi - b.lo), 0)).toBeCloseTo(1, 10);
  });

  it('uses the same bins for both series, spanning both', () => {
    const spec = histogramSpec([0, 1], [2, 3], 3, 't') as unknown as { data: { values: { lo: number; series: string }[] } };
    const edges = (s: string) => spec.data.values.filter((v) => v.series === s).map((v) => v.lo);
    expect(edges('real')).toEqual(edges('generated'));
    expect(edges('real')).toEqual([0, 1, 2]);
    expect(finiteRange([1], [1])).toEqual([0.5, 1.5]);
    expect(Array.from(column(Float32Array.from([1, 2, 3, 4]), 2, 1))).toEqual([2, 4]);
  });
});

describe('histogram reporter', () => {
  it('writes histogram.png for 1-D data', async () => {
    const dir = tempDir();
    await createHistogramReporter(histogramOptions.parse({}), ctx(dir)).onSample?.(sampleEvent());
    const { width, height } = expectPng(join(dir, 'histogram.png'));
    expect(width).toBeGreaterThan(800);
    expect(height).toBeGreaterThan(500);
  });

  it('skips D > 1 data unless a dimension is chosen', async () => {
    const dir = tempDir();
    const e = sampleEvent({ shape: [2] });
    await createHistogramReporter(histogramOptions.parse({}), ctx(dir)).onSample?.(e);
    expect(readdirSync(dir)).toEqual([]);
    await createHistogramReporter(histogramOptions.parse({ dimension: 1, file: 'h1.png' }), ctx(dir)).onSample?.(e);
    expectPng(join(dir, 'h1.png'));
    await expect(createHistogramReporter(histogramOptions.parse({ dimension: 2 }), ctx(dir)).onSample?.(e)).rejects.toThrow(/dimension 2 is out of range for data with D = 2/);
  });

  it('names the file when it cannot write', async () => {
    const dir = unwritableDir();
    await expect(createHistogramReporter(histogramOptions.parse({}), ctx(dir)).onSample?.(sampleEvent())).rejects.toThrow(`could not write ${join(dir, 'histogram.png')}`);
    expect(existsSync(join(dir, 'histogram.png'))).toBe(false);
  });

  it('validates bins', () => {
    expect(() => histogramOptions.parse({ bins: 0 })).toThrow();
    expect(histogramOptions.parse({}).bins).toBe(50);
  });
});
