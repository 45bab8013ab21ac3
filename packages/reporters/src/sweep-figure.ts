/**
 * The figures of a sweep, as Vega-Lite specs for {@link renderPng}: the comparison (each metric
 * against NFE or the first swept key, one line per combination of the others) and, for a random
 * search, each metric against each swept key as a scatter, where no grid line joins the points.
 */
import { nfeAxis } from './nfe-axis.js';
import type { FigureSpec } from './render.js';
import { metricNames, type SweepAxisInfo, type SweepRow, sweptKeys } from './sweep-table.js';

/**
 * The comparison figure: one panel per metric, the metric against NFE when the step count varies
 * (else against the first swept key), one line per combination of the other swept values, and the
 * noise floor dashed. Null when no point completed with a metric.
 */
export function comparisonSpec(rows: readonly SweepRow[], axes: readonly SweepAxisInfo[]): FigureSpec | null {
  const ok = rows.filter((r) => r.status === 'complete');
  const metrics = metricNames(ok, axes);
  if (ok.length === 0 || metrics.length === 0) return null;
  const swept = sweptKeys(axes);
  const byNfe = new Set(ok.map((r) => r.nfe)).size > 1;
  const xKey = byNfe || swept.length === 0 ? 'nfe' : swept[0];
  const seriesKeys = swept.filter((k) => k !== xKey && !(byNfe && /(^|\.)steps$/.test(k)));
  const values = ok.flatMap((r) =>
    metrics
      .filter((m) => typeof r[m] === 'number')
      .map((m) => ({
        metric: m,
        x: xKey === 'nfe' ? r.nfe : String(r[xKey]),
        value: r[m],
        floor: typeof r[`${m}NoiseFloor`] === 'number' ? r[`${m}NoiseFloor`] : null,
        series: seriesKeys.length ? seriesKeys.map((k) => `${k}=${String(r[k])}`).join(' ') : 'all',
      })),
  );
  const x = xKey === 'nfe' ? nfeAxis(ok.map((r) => r.nfe as number)) : { field: 'x', type: 'ordinal', title: xKey };
  return {
    title: 'Sweep: metrics (dashed: noise floor)',
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: metrics } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 260,
      height: 200,
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'value', type: 'quantitative', title: 'value' }, color: { field: 'series', type: 'nominal', title: seriesKeys.join(', ') || null } },
        },
        {
          mark: { type: 'line', strokeDash: [4, 3], opacity: 0.6 },
          encoding: { x, y: { field: 'floor', type: 'quantitative' }, color: { field: 'series', type: 'nominal' } },
        },
      ],
    },
  } as unknown as FigureSpec;
}

/** How a swept key's axis is drawn in {@link keyScatterSpec}: log for a log-uniform draw, else linear or categorical. */
export type KeyScale = 'log' | 'linear' | 'nominal';

/**
 * Each metric against each swept key, one panel per (metric, key): what a random search shows,
 * since its points form no grid to draw lines along. `scales` says how each key's x axis is drawn
 * (default: linear when every value is a number, else nominal). Null when no point completed with a metric.
 */
export function keyScatterSpec(rows: readonly SweepRow[], axes: readonly SweepAxisInfo[], scales: Readonly<Record<string, KeyScale>> = {}): FigureSpec | null {
  const ok = rows.filter((r) => r.status === 'complete');
  const metrics = metricNames(ok, axes);
  const keys = sweptKeys(axes);
  if (ok.length === 0 || metrics.length === 0 || keys.length === 0) return null;
  const scaleOf = (k: string): KeyScale => scales[k] ?? (ok.every((r) => typeof r[k] === 'number') ? 'linear' : 'nominal');
  const panel = (k: string) => {
    const scale = scaleOf(k);
    const values = ok.flatMap((r) => metrics.filter((m) => typeof r[m] === 'number').map((m) => ({ metric: m, x: scale === 'nominal' ? String(r[k]) : r[k], value: r[m] })));
    const x =
      scale === 'nominal'
        ? { field: 'x', type: 'nominal', title: k }
        : { field: 'x', type: 'quantitative', title: scale === 'log' ? `${k} (log scale)` : k, scale: { type: scale, zero: false } };
    return {
      data: { values },
      facet: { row: { field: 'metric', type: 'nominal', title: null, sort: metrics } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 220,
        height: 160,
        mark: { type: 'point', filled: true },
        encoding: { x, y: { field: 'value', type: 'quantitative', title: 'value', scale: { zero: false } } },
      },
    };
  };
  return { title: 'Sweep: each metric against each swept key', hconcat: keys.map(panel) } as unknown as FigureSpec;
}
