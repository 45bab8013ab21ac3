/**
 * The figures of conditional runs: image-grid with one row per class, scatter coloured by class,
 * a histogram panel per class, and the guidance sweep figure; each rendered to PNG.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ClassLabels, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { guidancePoints, guidanceSpec } from './guidance-figure.js';
import { createHistogramReporter, histogramByClassSpec, histogramOptions } from './histogram.js';
import { classGridCells, createImageGridReporter, gridRowCentres, imageGridOptions, imagesPerClassRow, tileImages } from './image-grid.js';
import { renderPng } from './render.js';
import { CLASS_SERIES, classPoints2d, createScatterReporter, scatterByClassSpec, scatterOptions } from './scatter.js';
import { ctx, expectPng, sampleEvent, tempDir } from './test-fixtures.js';

/** n labels cycling through `classes`, then shuffled with a seed (generated samples arrive in any order). */
function shuffledLabels(n: number, classes: number, seed: number): Int32Array {
  const perm = new Rng(seed).permutation(n);
  return Int32Array.from(perm, (p) => p % classes);
}

/** 2-D points on three arms (class c: angle 2πc/3, radius 1…3) with a little noise; labels give each row's arm. */
function arms(labels: Int32Array, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(labels.length * 2);
  labels.forEach((c, i) => {
    const r = 1 + 2 * rng.uniform();
    const a = (2 * Math.PI * c) / 3 + 0.3 * r;
    x[2 * i] = r * Math.cos(a) + 0.08 * rng.normal();
    x[2 * i + 1] = r * Math.sin(a) + 0.08 * rng.normal();
  });
  return x;
}

describe('image-grid by class', () => {
  it('puts the first images of each class in that class’s row and leaves missing cells blank', () => {
    const labels = Int32Array.from([2, 0, 2, 1, 2, 2, 0]);
    expect(classGridCells(labels, 4, 3)).toEqual([1, 6, null, 3, null, null, 0, 2, 4, null, null, null]);
    expect(imagesPerClassRow({ count: 64 }, 10)).toBe(7);
    expect(imagesPerClassRow({ count: 64 }, 2)).toBe(16);
    expect(imagesPerClassRow({ count: 64, columns: 5 }, 2)).toBe(5);
    // 1×1 images: value c/3 for class c; row c of the tiled grid holds only class-c grey levels.
    const data = Float32Array.from(labels, (c) => c / 3);
    const g = tileImages(data, [1, 1, 1], [0, 1], classGridCells(labels, 4, 3), 3, { scale: 1, padding: 1 });
    expect([g.width, g.height]).toEqual([7, 9]);
    const cell = (row: number, col: number) => g.pixels[(1 + 2 * row) * 7 + 1 + 2 * col];
    expect([cell(0, 0), cell(0, 1), cell(0, 2)]).toEqual([0, 0, 255]);
    expect([cell(2, 0), cell(2, 1), cell(2, 2)]).toEqual([170, 170, 170]);
    expect([cell(3, 0)]).toEqual([255]); // class 3 never drawn: blank (white)
    expect(gridRowCentres(2, 4, { scale: 2, padding: 1 })).toEqual([6, 16]);
  });

  it('writes image-grid.png with one labelled row per class for a conditional run', async () => {
    const dir = tempDir();
    const n = 60;
    const names = ['zero', 'one', 'two'];
    const labels: ClassLabels = { samples: shuffledLabels(n, 3, 1), reference: shuffledLabels(n, 3, 2), names };
    // 6×6 images: class c is a bright bar in column 2c.
    const bars = (l: Int32Array) => {
      const x = new Float32Array(l.length * 36).fill(-1);
      l.forEach((c, i) => {
        for (let y = 0; y < 6; y++) x[i * 36 + y * 6 + 2 * c] = 1;
      });
      return x;
    };
    const e = sampleEvent({ shape: [6, 6, 1], samples: bars(labels.samples), reference: bars(labels.reference), n, info: { range: [-1, 1] }, labels });
    await createImageGridReporter(imageGridOptions.parse({}), ctx(dir)).onSample?.(e);
    expect(readdirSync(dir)).toEqual(['image-grid.png']);
    const { width, height } = expectPng(join(dir, 'image-grid.png'), 1_000);
    // Three rows of (6 + 1)·4 px under the title; 16 images a row (⌈64 / 3⌉ capped) in two panels plus the name gutter.
    expect(height).toBeLessThan(250);
    expect(width).toBeGreaterThan(2 * 16 * 7 * 4);
    const plain = tempDir();
    await createImageGridReporter(imageGridOptions.parse({ byClass: false }), ctx(plain)).onSample?.(e);
    expect(expectPng(join(plain, 'image-grid.png'), 1_000)).not.toEqual({ width, height });
  });
});

describe('scatter and histogram by class', () => {
  it('colours real points by true class and generated ones by requested class, one colour per class name', async () => {
    const labels = Int32Array.from([1, 0, 1]);
    expect(classPoints2d(Float32Array.from([0, 1, 2, Number.NaN, 4, 5]), labels, ['a', 'b'], 's', 10)).toEqual([
      { x: 0, y: 1, series: 's', class: 'b' },
      { x: 4, y: 5, series: 's', class: 'b' },
    ]);
    const n = 600;
    const l: ClassLabels = { samples: shuffledLabels(n, 3, 3), reference: shuffledLabels(n, 3, 4), names: ['arm 0', 'arm 1', 'arm 2'] };
    const spec = scatterByClassSpec(arms(l.reference, 5), arms(l.samples, 6), l, 2000, 't') as unknown as {
      data: { values: { series: string; class: string }[] };
      spec: { encoding: { color: { field: string; scale: { domain: string[] } } } };
    };
    expect(spec.spec.encoding.color.field).toBe('class');
    expect(spec.spec.encoding.color.scale.domain).toEqual(l.names);
    expect(spec.data.values.filter((v) => v.series === CLASS_SERIES.generated)).toHaveLength(n);
    const dir = tempDir();
    await createScatterReporter(scatterOptions.parse({}), ctx(dir)).onSample?.(
      sampleEvent({ shape: [2], n, samples: arms(l.samples, 6), reference: arms(l.reference, 5), labels: l }),
    );
    expectPng(join(dir, 'scatter.png'));
  });

  it('draws one 1-D histogram panel per class, each normalised within its class, on shared bins', async () => {
    const n = 800;
    const l: ClassLabels = { samples: shuffledLabels(n, 2, 7), reference: shuffledLabels(n, 2, 8), names: ['left', 'right'] };
    const rng = new Rng(9);
    const draw = (labels: Int32Array, shift = 0) => Float32Array.from(labels, (c) => (c === 0 ? -2 : 2) + shift + 0.5 * rng.normal());
    const spec = histogramByClassSpec(draw(l.reference), draw(l.samples, 0.5), l, 40, 't') as unknown as {
      data: { values: { class: string; series: string; lo: number; hi: number; density: number }[] };
    };
    for (const c of l.names) {
      for (const series of ['real', 'generated']) {
        const bins = spec.data.values.filter((v) => v.class === c && v.series === series);
        expect(bins).toHaveLength(40);
        expect(bins.reduce((s, b) => s + b.density * (b.hi - b.lo), 0)).toBeCloseTo(1, 10);
      }
    }
    const dir = tempDir();
    await createHistogramReporter(histogramOptions.parse({}), ctx(dir)).onSample?.(sampleEvent({ n, samples: draw(l.samples, 0.5), reference: draw(l.reference), labels: l }));
    expectPng(join(dir, 'histogram.png'));
  });
});

describe('guidance sweep figure', () => {
  const rows = [
    { status: 'complete', 'sampler.guidance': 3, digitAccuracy: 0.93, digitAccuracyNoiseFloor: 0.95, classDiversity: 0.8, classDiversityNoiseFloor: 1.0 },
    { status: 'complete', 'sampler.guidance': 0, digitAccuracy: 0.55, digitAccuracyNoiseFloor: 0.95, classDiversity: 1.02, classDiversityNoiseFloor: 0.99 },
    { status: 'failed', 'sampler.guidance': 7 },
    { status: 'complete', 'sampler.guidance': '1', digitAccuracy: 0.81, digitAccuracyNoiseFloor: 0.95, classDiversity: 0.95, classDiversityNoiseFloor: 1.01 },
    { status: 'complete', 'sampler.guidance': 5, digitAccuracy: 0.96, digitAccuracyNoiseFloor: 0.95, classDiversity: 0.66, classDiversityNoiseFloor: 1.0 },
  ];
  const columns = { guidance: 'sampler.guidance', accuracy: 'digitAccuracy', diversity: 'classDiversity' };

  it('reads completed rows of a sweep table, with noise floors, sorted by w', () => {
    const points = guidancePoints(rows, columns);
    expect(points.map((p) => p.w)).toEqual([0, 1, 3, 5]);
    expect(points[0]).toEqual({ w: 0, accuracy: 0.55, diversity: 1.02, accuracyFloor: 0.95, diversityFloor: 0.99 });
    const series = guidancePoints([{ ...rows[0], 'sampler.use': 'ddim' }], { ...columns, series: ['sampler.use'] });
    expect(series[0].series).toBe('sampler.use=ddim');
    expect(guidanceSpec([])).toBeNull();
  });

  it('renders accuracy and diversity against w and the trade-off curve', async () => {
    const spec = guidanceSpec(guidancePoints(rows, columns)) as unknown as { hconcat: unknown[]; data: { values: { label: string }[] } };
    expect(spec.hconcat).toHaveLength(3);
    expect(spec.data.values.map((v) => v.label)).toEqual(['w = 0', 'w = 1', 'w = 3', 'w = 5']);
    const png = await renderPng(spec as never);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });
});
