/**
 * The `scatter` figure as data: real vs generated 2-D points as a Vega-Lite spec. Pure, so a browser
 * draws the same figure; the `scatter` reporter renders it to PNG in Node.
 */
import { classColorScale, type FigureSpec, SERIES_COLORS } from './figure.js';

/** Rows { x, y, series } from the first `max` points of row-major [n, 2] data. */
export function points2d(data: Float32Array, series: string, max: number): { x: number; y: number; series: string }[] {
  const n = Math.min(max, Math.floor(data.length / 2));
  const out: { x: number; y: number; series: string }[] = [];
  for (let i = 0; i < n; i++) {
    const x = data[2 * i];
    const y = data[2 * i + 1];
    if (Number.isFinite(x) && Number.isFinite(y)) out.push({ x, y, series });
  }
  return out;
}

/** Two scatter panels (real | generated) with shared x and y scales, as a Vega-Lite spec. */
export function scatterSpec(real: Float32Array, generated: Float32Array, maxPoints: number, title: string): FigureSpec {
  return {
    title,
    data: { values: [...points2d(real, 'real', maxPoints), ...points2d(generated, 'generated', maxPoints)] },
    facet: { column: { field: 'series', type: 'nominal', title: null, sort: ['real', 'generated'], header: { labelFontSize: 13 } } },
    spec: {
      width: 300,
      height: 300,
      mark: { type: 'circle', size: 10, opacity: 0.6 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'x₁', scale: { zero: false } },
        y: { field: 'y', type: 'quantitative', title: 'x₂', scale: { zero: false } },
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

/** Rows { x, y, series, class } from the first `max` points of row-major [n, 2] data and their class indices. */
export function classPoints2d(
  data: Float32Array,
  labels: Int32Array,
  names: readonly string[],
  series: string,
  max: number,
): { x: number; y: number; series: string; class: string }[] {
  const n = Math.min(max, Math.floor(data.length / 2), labels.length);
  const out: { x: number; y: number; series: string; class: string }[] = [];
  for (let i = 0; i < n; i++) {
    const x = data[2 * i];
    const y = data[2 * i + 1];
    if (Number.isFinite(x) && Number.isFinite(y)) out.push({ x, y, series, class: names[labels[i]] ?? String(labels[i]) });
  }
  return out;
}

/** Panel titles of {@link scatterByClassSpec}: real points coloured by their true class, generated ones by the class requested. */
export const CLASS_SERIES = { real: 'real (true class)', generated: 'generated (requested class)' } as const;

/**
 * The scatter of a conditional run: the same two panels with shared axes, each point coloured by its
 * class — true class for real points, requested class for generated ones — so a sample drawn on the
 * wrong arm shows as a colour out of place.
 */
export function scatterByClassSpec(
  real: Float32Array,
  generated: Float32Array,
  labels: { samples: Int32Array; reference: Int32Array; names: readonly string[] },
  maxPoints: number,
  title: string,
): FigureSpec {
  return {
    title,
    data: {
      values: [
        ...classPoints2d(real, labels.reference, labels.names, CLASS_SERIES.real, maxPoints),
        ...classPoints2d(generated, labels.samples, labels.names, CLASS_SERIES.generated, maxPoints),
      ],
    },
    facet: { column: { field: 'series', type: 'nominal', title: null, sort: [CLASS_SERIES.real, CLASS_SERIES.generated], header: { labelFontSize: 13 } } },
    spec: {
      width: 300,
      height: 300,
      mark: { type: 'circle', size: 12, opacity: 0.7 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'x₁', scale: { zero: false } },
        y: { field: 'y', type: 'quantitative', title: 'x₂', scale: { zero: false } },
        color: { field: 'class', type: 'nominal', title: 'class', scale: classColorScale(labels.names) },
      },
    },
  } as FigureSpec;
}
