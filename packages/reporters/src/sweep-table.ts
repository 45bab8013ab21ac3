/**
 * The tables of a sweep: `sweep.csv`, the table the CLI prints and the self-contained `report.html`.
 * They live here, beside the run reporters, so every place a sweep is shown (the CLI, a launcher's
 * coordinator, a notebook) renders the same rows the same way.
 */
import { formatNumber } from './console.js';
import { csvCell } from './csv-cell.js';
import { escapeHtml } from './html.js';

/** One row of a sweep: `point`, the swept values by key, `status`, `model`, `nfe`, metrics and noise floors, timings. */
export type SweepRow = Record<string, unknown>;

/**
 * One sweep axis as the tables show it: a config key and its values as typed (a grid), or for a
 * random-search axis the values drawn plus `label`, the distribution it was drawn from.
 */
export interface SweepAxisInfo {
  key: string;
  values: readonly string[];
  /** Shown instead of the values in the report's axes list (`loguniform(0.0001, 0.01)`). */
  label?: string;
}

/** Columns that describe a point rather than measure it: never taken for a metric. */
const DESCRIPTIVE = ['point', 'status', 'model', 'trained', 'nfe', 'steps', 'trainingSeconds', 'samplingSeconds', 'error', 'trial', 'attempts'];

/** The keys that vary across the sweep (an axis with one value is a fixed override). */
export function sweptKeys(axes: readonly SweepAxisInfo[]): string[] {
  return axes.filter((a) => a.values.length > 1).map((a) => a.key);
}

/** Every column of the rows: the union of their keys, in first-seen order, so no row loses a field. */
export function sweepColumns(rows: readonly SweepRow[]): string[] {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  return cols;
}

/** CSV with a header from the union of row keys (first-seen order); values quoted and defused where needed. */
export function toCsv(rows: readonly SweepRow[]): string {
  const cols = sweepColumns(rows);
  return `${[cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n')}\n`;
}

/** Metric names (not noise floors) present as numbers in the rows, in first-seen order. */
export function metricNames(rows: readonly SweepRow[], axes: readonly SweepAxisInfo[]): string[] {
  const fixed = new Set([...DESCRIPTIVE, ...axes.map((a) => a.key)]);
  const out: string[] = [];
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (!fixed.has(k) && !k.endsWith('NoiseFloor') && typeof v === 'number' && !out.includes(k)) out.push(k);
  return out;
}

/**
 * The printed table: swept values, the step count each point ran (when `sampler.steps` is not swept:
 * a sampler's default differs by sampler), NFE, each metric (with its noise floor), training seconds.
 */
export function formatTable(rows: readonly SweepRow[], axes: readonly SweepAxisInfo[]): string[] {
  const swept = sweptKeys(axes);
  const showSteps = !swept.includes('sampler.steps') && rows.some((r) => typeof r.steps === 'number');
  const metrics = metricNames(rows, axes);
  const head = [
    ...swept,
    ...(showSteps ? ['steps'] : []),
    'NFE',
    ...metrics.map((m) => (rows.some((r) => typeof r[`${m}NoiseFloor`] === 'number') ? `${m} (floor)` : m)),
    'train s',
    'model',
  ];
  const fmt = (v: unknown) => (typeof v === 'number' ? formatNumber(v) : v === undefined ? '-' : String(v));
  const body = rows.map((r) => [
    ...swept.map((k) => fmt(r[k])),
    ...(showSteps ? [fmt(r.steps)] : []),
    fmt(r.nfe),
    ...metrics.map((m) => (typeof r[`${m}NoiseFloor`] === 'number' ? `${fmt(r[m])} (${fmt(r[`${m}NoiseFloor`])})` : fmt(r[m]))),
    fmt(r.trainingSeconds),
    r.status === 'failed' ? 'FAILED' : r.trained ? 'trained' : `reused ${r.model}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

/** What {@link renderSweepHtml} needs: the rows, the axes, the figures (PNG bytes) and where the sweep came from. */
export interface SweepHtmlInput {
  title: string;
  rows: readonly SweepRow[];
  axes: readonly SweepAxisInfo[];
  /** The comparison figure, embedded; null when there was none or it failed. */
  png: Uint8Array | null;
  /** Further figures (the metric against each swept key of a random search), embedded after the first. */
  extraPngs?: readonly { alt: string; png: Uint8Array }[];
  config: string;
  trainings: number;
}

const pngTag = (alt: string, png: Uint8Array) => `<figure><img alt="${escapeHtml(alt)}" src="data:image/png;base64,${Buffer.from(png).toString('base64')}"></figure>`;

/** A self-contained report: the table, the figures (embedded) and the sweep definition. */
export function renderSweepHtml(args: SweepHtmlInput): string {
  const { rows, axes } = args;
  const cols = sweepColumns(rows);
  const cell = (v: unknown) => escapeHtml(typeof v === 'number' ? formatNumber(v) : v === undefined ? '' : String(v));
  const table = `<table><thead><tr>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${cols.map((c) => `<td>${cell(r[c])}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
  const fig = [...(args.png ? [pngTag('sweep comparison', args.png)] : []), ...(args.extraPngs ?? []).map((f) => pngTag(f.alt, f.png))].join('\n');
  const axesText = axes.map((a) => `${a.key} = ${a.label ?? a.values.join(', ')}`).join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(args.title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}img{max-width:100%}pre{background:#f7f7f7;padding:1em}</style>
</head>
<body>
<h1>${escapeHtml(args.title)}</h1>
<p>${rows.length} points from <code>${escapeHtml(args.config)}</code>; ${args.trainings} distinct model(s) trained, the other points sample from a shared checkpoint. Noise floor: the metric between a perfect generator’s draw (rows disjoint from the reference where the data is finite) and the same reference.</p>
<h2>Axes</h2><pre>${escapeHtml(axesText)}</pre>
<h2>Results</h2>${table}
${fig ? `<h2>Comparison</h2>${fig}` : ''}
</body>
</html>
`;
}
