/**
 * The guidance sweep figure: classifier-free guidance (Ho & Salimans 2022) trades sample diversity for
 * class fidelity as its scale w grows, and this figure shows both sides — how often the requested
 * class was drawn, and how varied the samples of a class are — against w, plus the trade-off curve
 * itself (diversity against accuracy, each point labelled with its w). Real data's scores (the noise
 * floors) are drawn dashed: what a perfect generator would reach. Pure, so a browser draws it too.
 */
import type { FigureSpec } from './figure.js';
import type { SweepRow } from './sweep-table.js';

/** One guidance scale's result, as the figure plots it. */
export interface GuidancePoint {
  /** Guidance scale w. */
  w: number;
  /** Share of samples of the requested class (e.g. a `digit-accuracy` value). */
  accuracy: number;
  /** Within-class diversity (e.g. a `class-diversity` value; 1 = as diverse as the data). */
  diversity: number;
  /** Real data's accuracy, when known. */
  accuracyFloor?: number;
  /** Real data's diversity, when known. */
  diversityFloor?: number;
  /** The curve the point belongs to when a sweep varies more than w (e.g. `sampler.use=ddim`). */
  series?: string;
}

/** Which sweep columns hold w, the accuracy and the diversity; metric columns' noise floors are read from `<key>NoiseFloor`. */
export interface GuidanceColumns {
  guidance: string;
  accuracy: string;
  diversity: string;
  /** Other swept keys: each distinct combination of their values becomes one curve. */
  series?: readonly string[];
}

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined;

/**
 * The points of a sweep's results table (its rows as `sweep.csv` holds them): completed rows whose w,
 * accuracy and diversity are all numbers, sorted by w. The column names are the caller's (the runner
 * knows which metric and option keys it swept), so nothing here names a plugin.
 */
export function guidancePoints(rows: readonly SweepRow[], columns: GuidanceColumns): GuidancePoint[] {
  const out: GuidancePoint[] = [];
  for (const r of rows) {
    if (r.status !== undefined && r.status !== 'complete') continue;
    const w = num(r[columns.guidance]);
    const accuracy = num(r[columns.accuracy]);
    const diversity = num(r[columns.diversity]);
    if (w === undefined || accuracy === undefined || diversity === undefined) continue;
    const p: GuidancePoint = { w, accuracy, diversity };
    const af = num(r[`${columns.accuracy}NoiseFloor`]);
    const df = num(r[`${columns.diversity}NoiseFloor`]);
    if (af !== undefined) p.accuracyFloor = af;
    if (df !== undefined) p.diversityFloor = df;
    if (columns.series && columns.series.length > 0) p.series = columns.series.map((k) => `${k}=${String(r[k])}`).join(' ');
    out.push(p);
  }
  return out.sort((a, b) => a.w - b.w);
}

/** [min, max] of finite values widened by 8 % of the span on each side (at least 0.02), so points and floors stay off the frame. */
export function paddedDomain(values: readonly number[]): [number, number] {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return [0, 1];
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const pad = Math.max(0.08 * (hi - lo), 0.02);
  return [lo - pad, hi + pad];
}

/** Axis titles of the figure; the defaults name what the values mean, not which metric gave them. */
export interface GuidanceFigureOptions {
  title?: string;
  accuracyTitle?: string;
  diversityTitle?: string;
}

/**
 * Three panels sharing one colour per curve: accuracy against w, diversity against w (each with its
 * floor dashed) and diversity against accuracy with each point labelled "w = …". Null when there are
 * no points.
 */
export function guidanceSpec(points: readonly GuidancePoint[], o: GuidanceFigureOptions = {}): FigureSpec | null {
  if (points.length === 0) return null;
  const accuracyTitle = o.accuracyTitle ?? 'share of requested class';
  const diversityTitle = o.diversityTitle ?? 'class diversity (data = 1)';
  const multi = new Set(points.map((p) => p.series ?? '')).size > 1;
  // With several curves only the first one's points are labelled, so labels do not print over each other.
  const first = points[0].series ?? 'all';
  const values = points.map((p) => ({ ...p, series: p.series ?? 'all', label: (p.series ?? 'all') === first ? `w = ${p.w}` : '' }));
  const domain = (field: 'accuracy' | 'diversity') => paddedDomain(points.flatMap((p) => [p[field], p[`${field}Floor`] ?? p[field]]));
  const color = multi ? { field: 'series', type: 'nominal', title: null } : { value: '#4c78a8' };
  const floorColor = multi ? color : { value: '#888888' };
  const x = { field: 'w', type: 'quantitative', title: 'guidance scale w', scale: { zero: true } };
  const againstW = (field: 'accuracy' | 'diversity', title: string) => ({
    width: 240,
    height: 220,
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x, y: { field, type: 'quantitative', title, scale: { domain: domain(field), nice: false } }, color } },
      {
        mark: { type: 'line', strokeDash: [5, 4], opacity: 0.7 },
        encoding: { x, y: { field: `${field}Floor`, type: 'quantitative' }, color: floorColor },
      },
    ],
  });
  return {
    title: o.title ?? 'Guidance sweep: fidelity vs diversity (dashed: real data)',
    data: { values },
    hconcat: [
      againstW('accuracy', accuracyTitle),
      againstW('diversity', diversityTitle),
      {
        width: 240,
        height: 220,
        layer: [
          {
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'accuracy', type: 'quantitative', title: accuracyTitle, scale: { domain: domain('accuracy'), nice: false } },
              y: { field: 'diversity', type: 'quantitative', title: diversityTitle, scale: { domain: domain('diversity'), nice: false } },
              order: { field: 'w' },
              color,
            },
          },
          {
            mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 11 },
            encoding: { x: { field: 'accuracy', type: 'quantitative' }, y: { field: 'diversity', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
    ],
  } as unknown as FigureSpec;
}
