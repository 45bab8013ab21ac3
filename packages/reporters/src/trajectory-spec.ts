/**
 * The `trajectory` figure as data: snapshots of the reverse process as small multiples (histograms
 * for 1-D data, scatters for 2-D) as a Vega-Lite spec. Pure, so a browser draws the same figure; the
 * `trajectory` reporter renders it to PNG in Node.
 */
import type { SampleEvent } from '@diffusionlab/core';
import { type FigureSpec, SERIES_COLORS } from './figure.js';
import { densityHistogram, finiteRange } from './histogram-spec.js';
import { points2d } from './scatter-spec.js';

/** The panel layout {@link trajectorySpec} reads: the `trajectory` reporter's options satisfy it. */
export interface TrajectoryLayout {
  /** At most this many snapshots, evenly spaced, always including the first and the last. */
  panels: number;
  /** At most this many panels per row. */
  columns: number;
  /** Histogram bins (1-D data), shared by all panels. */
  bins: number;
  /** At most this many points per scatter panel (2-D data). */
  maxPoints: number;
}

/** Indices of at most k evenly spaced items out of n, always keeping the first and the last. */
export function evenlySpaced(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const out = new Set<number>();
  for (let j = 0; j < k; j++) out.add(Math.round((j * (n - 1)) / (k - 1)));
  return [...out];
}

/** A panel's title: sampler step and timestep (t = −1 marks the final, denoised state). */
export function panelLabel(snap: { step: number; t: number }): string {
  const t = snap.t < 0 ? 'data' : `t = ${Number(snap.t.toPrecision(4))}`;
  return `step ${snap.step} (${t})`;
}

/**
 * Grid columns for k panels with at most `max` per row, balanced so rows are as full as they can be
 * (4 panels at max 3 → 2 × 2, not 3 + 1).
 */
export function gridColumns(k: number, max: number): number {
  const rows = Math.ceil(k / max);
  return Math.ceil(k / rows);
}

/** The small-multiples figure as a Vega-Lite spec, or undefined when the data is neither 1-D nor 2-D. */
export function trajectorySpec(e: SampleEvent, o: TrajectoryLayout): FigureSpec | undefined {
  const D = e.shape.reduce((a, b) => a * b, 1);
  if ((D !== 1 && D !== 2) || e.trajectory.length === 0) return undefined;
  const snaps = evenlySpaced(e.trajectory.length, o.panels).map((i) => e.trajectory[i]);
  const labels = snaps.map(panelLabel);
  const title = `Reverse-process trajectory (${e.sampler}, n = ${e.n})`;
  const facet = { field: 'panel', type: 'nominal', title: null, sort: labels };
  const columns = gridColumns(snaps.length, o.columns);
  // Vega-Lite draws a wrapped facet's shared x axis under the last row of every column, so a column whose
  // last cell is empty gets an axis with no panel above it; when the grid is ragged each panel draws its own.
  const ragged = snaps.length % columns !== 0;
  const axisResolve = ragged ? { axis: { x: 'independent' } } : {};
  if (D === 1) {
    const [lo, hi] = finiteRange(...snaps.map((s) => s.samples));
    const values = snaps.flatMap((s, i) => densityHistogram(s.samples, o.bins, lo, hi).map((b) => ({ ...b, panel: labels[i] })));
    return {
      title,
      data: { values },
      facet,
      columns,
      spec: {
        width: 200,
        height: 140,
        mark: { type: 'bar', color: SERIES_COLORS.generated, binSpacing: 0 },
        encoding: {
          x: { field: 'lo', type: 'quantitative', title: 'value', scale: { domain: [lo, hi], nice: false, zero: false } },
          x2: { field: 'hi' },
          y: { field: 'density', type: 'quantitative', title: 'density' },
          y2: { datum: 0 },
        },
      },
      resolve: { scale: { y: 'independent' }, ...axisResolve },
    } as FigureSpec;
  }
  const values = snaps.flatMap((s, i) => points2d(s.samples, labels[i], o.maxPoints).map((p) => ({ x: p.x, y: p.y, panel: p.series })));
  return {
    title,
    data: { values },
    facet,
    columns,
    spec: {
      width: 200,
      height: 200,
      mark: { type: 'circle', size: 6, opacity: 0.6, color: SERIES_COLORS.generated },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'x₁', scale: { zero: false } },
        y: { field: 'y', type: 'quantitative', title: 'x₂', scale: { zero: false } },
      },
    },
    resolve: axisResolve,
  } as FigureSpec;
}
