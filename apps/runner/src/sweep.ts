/**
 * `diffusionlab sweep`: the cartesian product of `key=a,b,c` axes, one directory per point, then a
 * comparison (`sweep.csv`, `sweep.json`, `sweep.png`, `report.html`). Points that differ only in
 * sampler, evaluation or reporter settings share one trained model: it is trained once and the other
 * points sample from its checkpoint, so a sampler sweep costs one training.
 */
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, DiffusionLabError, type TrainAccelerator } from '@diffusionlab/core';
import { isDiffusionLabError } from '@diffusionlab/core';
import { escapeHtml, type FigureSpec, formatNumber, renderPng } from '@diffusionlab/reporters';
import { nfeAxis } from './nfe-axis.js';
import { parseOverrides, resolvedConfigObject } from './config.js';
import { csvCell } from './csv-cell.js';
import { writeFileAtomic, writeJsonAtomic } from './files.js';
import { type LoadedExperiment, loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { closeOutputDir, openOutputDir, recordOutput } from './run-dir.js';
import { readRunDirectory, sampleFromRun } from './sample.js';
import { isConfigError } from '@diffusionlab/core';
import { checkSampler, createPlugin } from './experiment.js';
import { timestamp } from './timestamp.js';

type Json = Record<string, unknown>;

/** One sweep axis: a config key and the raw text of each value (as typed on the command line). */
export interface SweepAxis {
  key: string;
  values: string[];
}

/** One point of the product, validated, with where it runs and which point trains its model. */
export interface SweepPoint {
  index: number;
  /** Directory name inside the sweep folder, built from the swept values. */
  name: string;
  dir: string;
  /** `key=value` overrides for this point (fixed ones included). */
  overrides: string[];
  /** The swept keys' values, typed by YAML (`20` → 20). */
  values: Record<string, unknown>;
  loaded: LoadedExperiment;
  /** Index of the point whose run trains this point's model (itself when it trains). */
  trainer: number;
}

/** One row of sweep.csv / sweep.json. */
export type SweepRow = Record<string, unknown>;

/** How the CLI (or a test) runs a sweep. */
export interface SweepOptions {
  out?: string;
  force?: boolean;
  /** Trainings run in this many parallel worker processes (1: in this process). */
  jobs?: number;
  print?: (line: string) => void;
  cwd?: string;
  accelerator?: TrainAccelerator;
  /** The CLI entry forked for `--jobs` > 1; default the built `bin.js` beside this module. */
  worker?: { script: string; execArgv?: string[] };
}

/** What a sweep returns: its folder and one row per point. */
export interface SweepResult {
  sweepDir: string;
  rows: SweepRow[];
  /** Number of distinct models trained. */
  trainings: number;
  failed: number;
}

/** Splits `key=a,b,c` into an axis, with the same rules as {@link parseOverrides} (which validates it). */
export function parseAxes(args: readonly string[]): SweepAxis[] {
  parseOverrides(args, true);
  const axes = args.map((arg) => {
    const eq = arg.indexOf('=');
    const key = arg.slice(0, eq).trim();
    const raw = arg.slice(eq + 1);
    const isFlow = raw.trim().startsWith('[') || raw.trim().startsWith('{');
    return { key, values: (!isFlow && raw.includes(',') ? raw.split(',') : [raw]).map((v) => v.trim()) };
  });
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.key)) throw new ConfigError({ path: a.key, message: 'given twice; list every value in one argument (key=a,b,c)' });
    seen.add(a.key);
  }
  return axes;
}

/** Every combination of axis values, the first axis varying slowest. */
export function cartesian(axes: readonly SweepAxis[]): string[][] {
  let out: string[][] = [[]];
  for (const a of axes) out = out.flatMap((prefix) => a.values.map((v) => [...prefix, v]));
  return out;
}

/** A folder name from swept values: `sampler.use-ddim_sampler.steps-20` (safe characters only). */
export function pointName(axes: readonly SweepAxis[], values: readonly string[]): string {
  const parts = axes.map((a, i) => ({ a, v: values[i] })).filter(({ a }) => a.values.length > 1);
  if (parts.length === 0) return 'point';
  const safe = (s: string) => s.replace(/[^A-Za-z0-9.+-]/g, '_').replace(/^\.+/, '_');
  return parts.map(({ a, v }) => `${safe(a.key)}-${safe(v)}`).join('_');
}

/**
 * The part of a resolved config that determines the trained model: everything except sampler,
 * evaluation, reporters and the name. Points with equal keys share one training.
 */
export function modelKey(loaded: LoadedExperiment): string {
  const { sampler: _s, evaluation: _e, reporters: _r, name: _n, ...rest } = resolvedConfigObject(loaded.resolved);
  return JSON.stringify(rest);
}

/**
 * A step count the sampler cannot take on the schedule is only caught when plugins are built; a
 * sweep checks it for every point up front (schedules and samplers are plain objects, cheap to
 * create), with the sampler's own check, naming the point.
 */
async function checkSteps(loaded: LoadedExperiment, overrides: readonly string[]): Promise<void> {
  const r = loaded.resolved;
  const ctx = { seed: r.experiment.seed, print: () => {}, interactive: false };
  try {
    const schedule = await createPlugin<'schedule'>(r.schedule, ctx);
    checkSampler(r.sampler, await createPlugin<'sampler'>(r.sampler, ctx), schedule);
  } catch (e) {
    if (!isConfigError(e)) throw e;
    throw new ConfigError(e.issues.map((i) => ({ ...i, message: `${i.message} (sweep point ${overrides.join(' ')})` })), { hint: e.hint });
  }
}

/** Validates every point before any work; a bad value names the point and the key. */
export async function planSweep(configPath: string, args: readonly string[], sweepDir: string | ((firstName: string) => string), cwd: string): Promise<{ axes: SweepAxis[]; points: SweepPoint[]; sweepDir: string }> {
  const axes = parseAxes(args);
  const combos = cartesian(axes);
  const points: SweepPoint[] = [];
  const trainers = new Map<string, number>();
  const names = new Set<string>();
  let root: string | undefined;
  for (const [index, combo] of combos.entries()) {
    const overrides = axes.map((a, i) => `${a.key}=${combo[i]}`);
    let name = pointName(axes, combo);
    for (let k = 2; names.has(name); k++) name = `${pointName(axes, combo)}-${k}`;
    names.add(name);
    let loaded: LoadedExperiment;
    try {
      loaded = await loadExperiment(configPath, overrides, cwd);
    } catch (e) {
      if (isDiffusionLabError(e) && combos.length > 1) {
        throw new DiffusionLabError(`sweep point ${overrides.join(' ')}: ${e.message}`, { code: e.code, hint: e.hint });
      }
      throw e;
    }
    await checkSteps(loaded, overrides);
    const values: Record<string, unknown> = {};
    const typed = parseOverrides(overrides, false);
    axes.forEach((a, i) => {
      if (a.values.length > 1) values[a.key] = typed[i].values[0];
    });
    const key = modelKey(loaded);
    if (!trainers.has(key)) trainers.set(key, index);
    root ??= typeof sweepDir === 'string' ? sweepDir : sweepDir(loaded.resolved.experiment.name);
    points.push({ index, name, dir: join(root, name), overrides, values, loaded, trainer: trainers.get(key) as number });
  }
  return { axes, points, sweepDir: root as string };
}

/** The default worker: the built CLI entry (dist/bin.js) beside this module. */
function defaultWorker(): { script: string; execArgv?: string[] } {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, 'bin.js'), join(here, '..', 'dist', 'bin.js')]) if (existsSync(p)) return { script: p };
  throw new DiffusionLabError('--jobs needs the built CLI (dist/bin.js) to start worker processes', { hint: 'build it with `pnpm --filter diffusionlab build`, or use --jobs 1' });
}

/** Runs `diffusionlab run` in a child process; resolves with its exit code and last error line. */
function runWorker(worker: { script: string; execArgv?: string[] }, args: string[], print: (l: string) => void, prefix: string, cwd: string): Promise<{ code: number; error: string }> {
  return new Promise((resolvePromise) => {
    const child = fork(worker.script, args, { cwd, execArgv: worker.execArgv ?? [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let errText = '';
    const lines = (chunk: Buffer, isErr: boolean) => {
      const text = chunk.toString('utf8');
      if (isErr) errText += text;
      for (const l of text.split('\n')) if (l.trim() !== '') print(`${prefix}${l}`);
    };
    child.stdout?.on('data', (c: Buffer) => lines(c, false));
    child.stderr?.on('data', (c: Buffer) => lines(c, true));
    child.on('error', (e) => {
      errText += e.message;
    });
    child.on('close', (code) => {
      const errLine = errText.split('\n').find((l) => l.startsWith('error:')) ?? errText.trim().split('\n').pop() ?? '';
      resolvePromise({ code: code ?? 1, error: errLine.replace(/^error:\s*/, '') });
    });
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** One row from a point's summary: swept values, NFE, every numeric metric and noise floor, timings. */
export function sweepRow(point: SweepPoint, points: readonly SweepPoint[], summary: Json | null, error?: string): SweepRow {
  const row: SweepRow = { point: point.name, ...point.values };
  row.status = summary ? 'complete' : 'failed';
  row.model = points[point.trainer].name;
  row.trained = point.trainer === point.index;
  const sampling = (summary?.sampling ?? {}) as Json;
  const training = (summary?.training ?? {}) as Json;
  row.nfe = num(sampling.nfe);
  row.steps = num(sampling.steps);
  for (const [k, v] of Object.entries((summary?.metrics ?? {}) as Json)) if (num(v) !== undefined) row[k] = v;
  row.trainingSeconds = num(training.seconds);
  row.samplingSeconds = num(sampling.seconds);
  if (error) row.error = error;
  return row;
}

/** CSV with a header from the union of row keys (first-seen order); values quoted where needed. */
export function toCsv(rows: readonly SweepRow[]): string {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = csvCell;
  return `${[cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n')}\n`;
}

/** Metric names (not noise floors) present as numbers in the rows, in first-seen order. */
export function metricNames(rows: readonly SweepRow[], axes: readonly SweepAxis[]): string[] {
  const fixed = new Set(['point', 'status', 'model', 'trained', 'nfe', 'steps', 'trainingSeconds', 'samplingSeconds', 'error', ...axes.map((a) => a.key)]);
  const out: string[] = [];
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (!fixed.has(k) && !k.endsWith('NoiseFloor') && typeof v === 'number' && !out.includes(k)) out.push(k);
  return out;
}

/**
 * The printed table: swept values, the step count each point ran (when `sampler.steps` is not swept:
 * a sampler's default differs by sampler), NFE, each metric (with its noise floor), training seconds.
 */
export function formatTable(rows: readonly SweepRow[], axes: readonly SweepAxis[]): string[] {
  const swept = axes.filter((a) => a.values.length > 1).map((a) => a.key);
  const showSteps = !swept.includes('sampler.steps') && rows.some((r) => typeof r.steps === 'number');
  const metrics = metricNames(rows, axes);
  const head = [...swept, ...(showSteps ? ['steps'] : []), 'NFE', ...metrics.map((m) => (rows.some((r) => typeof r[`${m}NoiseFloor`] === 'number') ? `${m} (floor)` : m)), 'train s', 'model'];
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
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

/**
 * The comparison figure: one panel per metric, the metric against NFE when the step count varies
 * (else against the first swept key), one line per combination of the other swept values, and the
 * noise floor dashed.
 */
export function comparisonSpec(rows: readonly SweepRow[], axes: readonly SweepAxis[]): FigureSpec | null {
  const ok = rows.filter((r) => r.status === 'complete');
  const metrics = metricNames(ok, axes);
  if (ok.length === 0 || metrics.length === 0) return null;
  const swept = axes.filter((a) => a.values.length > 1).map((a) => a.key);
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
        { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'value', type: 'quantitative', title: 'value' }, color: { field: 'series', type: 'nominal', title: seriesKeys.join(', ') || null } } },
        {
          mark: { type: 'line', strokeDash: [4, 3], opacity: 0.6 },
          encoding: { x, y: { field: 'floor', type: 'quantitative' }, color: { field: 'series', type: 'nominal' } },
        },
      ],
    },
  } as unknown as FigureSpec;
}

/** A self-contained report: the table, the figure (embedded) and the sweep definition. */
export function renderSweepHtml(args: { title: string; rows: readonly SweepRow[]; axes: readonly SweepAxis[]; png: Uint8Array | null; config: string; trainings: number }): string {
  const { rows, axes } = args;
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = (v: unknown) => escapeHtml(typeof v === 'number' ? formatNumber(v) : v === undefined ? '' : String(v));
  const table = `<table><thead><tr>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${cols.map((c) => `<td>${cell(r[c])}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
  const fig = args.png ? `<figure><img alt="sweep comparison" src="data:image/png;base64,${Buffer.from(args.png).toString('base64')}"></figure>` : '';
  const axesText = axes.map((a) => `${a.key} = ${a.values.join(', ')}`).join('\n');
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

/** `diffusionlab sweep <config> key=a,b …`: validates every point, trains once per model, samples the rest, compares. */
export async function runSweep(configPath: string, args: readonly string[], opts: SweepOptions = {}): Promise<SweepResult> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const cwd = opts.cwd ?? process.cwd();
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new ConfigError({ path: '--jobs', message: `must be a positive integer, got ${jobs}` });
  if (args.length === 0) throw new DiffusionLabError('sweep needs at least one axis key=a,b', { hint: 'diffusionlab sweep examples/seed-1d.yaml sampler.steps=20,50,100' });
  const configAbs = resolve(cwd, configPath);
  const { axes, points, sweepDir } = await planSweep(configAbs, args, opts.out ? resolve(cwd, opts.out) : (name) => join(cwd, 'sweeps', `${name}-${timestamp()}`), cwd);
  const title = `diffusionlab sweep: ${points[0].loaded.resolved.experiment.name}`;
  const worker = jobs > 1 ? (opts.worker ?? defaultWorker()) : undefined;

  // The folder: refuse one that holds an earlier sweep (or run) unless --force (which removes only what diffusionlab wrote); lock it.
  const held = (entries: readonly string[]) => entries.some((e) => ['sweep.json', 'config.yaml', 'summary.json'].includes(e)) || points.some((p) => entries.includes(p.name));
  openOutputDir(sweepDir, { force: opts.force ?? false, holds: held, what: 'a sweep or run', print });
  // Worker processes write the points: the sweep's manifest lists them up front.
  for (const p of points) recordOutput(p.dir);

  const trainers = points.filter((p) => p.trainer === p.index);
  print(`sweep: ${points.length} point(s), ${trainers.length} distinct model(s) to train${jobs > 1 ? ` with ${jobs} workers` : ''} → ${sweepDir}`);
  const summaries = new Map<number, Json>();
  const errors = new Map<number, string>();

  await pool(trainers, jobs, async (p) => {
    const prefix = `[${p.name}] `;
    print(`${prefix}training (${p.overrides.join(' ')})`);
    try {
      if (worker) {
        const { code, error } = await runWorker(worker, ['run', configAbs, ...p.overrides, '--out', p.dir, '--force'], print, prefix, cwd);
        if (code !== 0) throw new Error(error || `worker exited with code ${code}`);
        summaries.set(p.index, JSON.parse(readFileSync(join(p.dir, 'summary.json'), 'utf8')));
      } else {
        const res = await runExperiment(withSummaryReporter(p.loaded.resolved, p.loaded.registry), {
          out: p.dir,
          force: true,
          print: (l) => print(`${prefix}${l}`),
          argv: ['run', configAbs, ...p.overrides, '--out', p.dir],
          overrides: p.overrides,
          configPath: configAbs,
          cwd,
          accelerator: opts.accelerator,
        });
        summaries.set(p.index, res.summary);
      }
    } catch (e) {
      errors.set(p.index, (e as Error).message.split('\n')[0]);
      print(`${prefix}failed: ${(e as Error).message}`);
    }
  });

  for (const p of points) {
    if (p.trainer === p.index) continue;
    const prefix = `[${p.name}] `;
    const trainer = points[p.trainer];
    if (!summaries.has(trainer.index)) {
      errors.set(p.index, `its model (${trainer.name}) failed to train`);
      continue;
    }
    try {
      const res = await sampleFromRun(readRunDirectory(trainer.dir, cwd), p.loaded.raw, {
        out: p.dir,
        force: true,
        // The sweep's own config: its plugins are the user's, loaded already to plan the sweep.
        trust: true,
        print: (l) => print(`${prefix}${l}`),
        argv: ['sweep', configAbs, ...args],
        overrides: p.overrides,
        cwd,
      });
      summaries.set(p.index, res.summary);
    } catch (e) {
      errors.set(p.index, (e as Error).message.split('\n')[0]);
      print(`${prefix}failed: ${(e as Error).message}`);
    }
  }

  const rows = points.map((p) => sweepRow(p, points, summaries.get(p.index) ?? null, errors.get(p.index)));
  const spec = comparisonSpec(rows, axes);
  let png: Uint8Array | null = null;
  if (spec) {
    try {
      png = await renderPng(spec);
      writeFileAtomic(join(sweepDir, 'sweep.png'), png);
    } catch (e) {
      print(`warning: the comparison figure failed: ${(e as Error).message}`);
    }
  }
  writeFileAtomic(join(sweepDir, 'sweep.csv'), toCsv(rows));
  writeFileAtomic(
    join(sweepDir, 'report.html'),
    renderSweepHtml({ title, rows, axes, png, config: configAbs, trainings: trainers.length }),
  );
  // sweep.json last: its presence marks a finished sweep.
  writeJsonAtomic(join(sweepDir, 'sweep.json'), {
    config: configAbs,
    axes,
    trainings: trainers.length,
    jobs,
    finishedAt: new Date().toISOString(),
    points: rows,
  });
  closeOutputDir(sweepDir);
  print('');
  for (const l of formatTable(rows, axes)) print(l);
  print(`\nSweep directory: ${sweepDir}`);
  return { sweepDir, rows, trainings: trainers.length, failed: errors.size };
}
