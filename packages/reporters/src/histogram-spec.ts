/**
 * The `histogram` figure as data: density histograms of real and generated 1-D values on shared
 * bins, as a Vega-Lite spec. Pure (no file system, no rendering), so a browser draws the same figure
 * with vega-embed; the `histogram` reporter renders it to PNG in Node.
 */
import { type FigureSpec, SERIES_COLORS } from './figure.js';

/** One bin of a density histogram: [lo, hi) and count / (n · width), so the bars integrate to 1. */
export interface DensityBin {
  lo: number;
  hi: number;
  density: number;
}

/** Finite min and max over several arrays (shared bin edges need the union's range). */
export function finiteRange(...arrays: ArrayLike<number>[]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/**
 * Density histogram on `bins` equal-width bins over [lo, hi] (the last bin closed); non-finite values and
 * values outside the range are dropped, and densities are normalised by the count of values kept.
 */
export function densityHistogram(values: ArrayLike<number>, bins: number, lo: number, hi: number): DensityBin[] {
  const width = (hi - lo) / bins;
  const counts = new Float64Array(bins);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= lo && v <= hi)) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))] += 1;
    n += 1;
  }
  return Array.from(counts, (c, k) => ({ lo: lo + k * width, hi: lo + (k + 1) * width, density: n > 0 ? c / (n * width) : 0 }));
}

/** Every `stride`-th value starting at `offset`: one coordinate of row-major [n, D] data. */
export function column(data: Float32Array, stride: number, offset: number): Float32Array {
  if (stride === 1) return data;
  const out = new Float32Array(Math.floor(data.length / stride));
  for (let i = 0; i < out.length; i++) out[i] = data[i * stride + offset];
  return out;
}

/** The overlaid real-vs-generated histogram as a Vega-Lite spec. */
export function histogramSpec(real: ArrayLike<number>, generated: ArrayLike<number>, bins: number, title: string): FigureSpec {
  const [lo, hi] = finiteRange(real, generated);
  const values = [
    ...densityHistogram(real, bins, lo, hi).map((b) => ({ ...b, series: 'real' })),
    ...densityHistogram(generated, bins, lo, hi).map((b) => ({ ...b, series: 'generated' })),
  ];
  return {
    title,
    width: 480,
    height: 280,
    data: { values },
    mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
    encoding: {
      x: { field: 'lo', type: 'quantitative', title: 'value', scale: { domain: [lo, hi], nice: false, zero: false } },
      x2: { field: 'hi' },
      y: { field: 'density', type: 'quantitative', title: 'density', stack: null },
      y2: { datum: 0 },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: { domain: ['real', 'generated'], range: [SERIES_COLORS.real, SERIES_COLORS.generated] },
      },
    },
  } as FigureSpec;
}

/** The values of `data` whose label is `c`. */
function ofClass(data: ArrayLike<number>, labels: Int32Array, c: number): number[] {
  const out: number[] = [];
  const n = Math.min(data.length, labels.length);
  for (let i = 0; i < n; i++) if (labels[i] === c) out.push(data[i]);
  return out;
}

/**
 * The histogram of a conditional run on 1-D data: one panel per class, each overlaying real values
 * of that true class and generated values of that requested class as density histograms (each
 * integrating to 1 within its panel) on bins shared by every panel, so classes compare across panels.
 */
export function histogramByClassSpec(
  real: ArrayLike<number>,
  generated: ArrayLike<number>,
  labels: { samples: Int32Array; reference: Int32Array; names: readonly string[] },
  bins: number,
  title: string,
): FigureSpec {
  const [lo, hi] = finiteRange(real, generated);
  const values = labels.names.flatMap((name, c) => [
    ...densityHistogram(ofClass(real, labels.reference, c), bins, lo, hi).map((b) => ({ ...b, series: 'real', class: name })),
    ...densityHistogram(ofClass(generated, labels.samples, c), bins, lo, hi).map((b) => ({ ...b, series: 'generated', class: name })),
  ]);
  return {
    title,
    data: { values },
    facet: { field: 'class', type: 'nominal', title: null, sort: [...labels.names], header: { labelFontSize: 13 } },
    columns: Math.min(labels.names.length, 4),
    spec: {
      width: 240,
      height: 150,
      mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
      encoding: {
        x: { field: 'lo', type: 'quantitative', title: 'value', scale: { domain: [lo, hi], nice: false, zero: false } },
        x2: { field: 'hi' },
        y: { field: 'density', type: 'quantitative', title: 'density', stack: null },
        y2: { datum: 0 },
        color: {
          field: 'series',
          type: 'nominal',
          title: null,
          scale: { domain: ['real', 'generated'], range: [SERIES_COLORS.real, SERIES_COLORS.generated] },
        },
      },
    },
  } as FigureSpec;
}
