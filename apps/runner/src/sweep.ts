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
import { comparisonSpec, formatTable, renderPng, renderSweepHtml, toCsv } from '@diffusionlab/reporters';
import { parseOverrides, resolvedConfigObject } from './config.js';
import { writeFileAtomic, writeJsonAtomic } from './files.js';
import { type LoadedExperiment, loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { closeOutputDir, openOutputDir, recordOutput } from './run-dir.js';
import { readRunDirectory, sampleFromRun } from './sample.js';

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

// The tables and figures are rendered by @diffusionlab/reporters; re-exported here so the runner's
// library API (which has offered them since the first sweep) keeps them.
export { comparisonSpec, formatTable, metricNames, renderSweepHtml, toCsv } from '@diffusionlab/reporters';

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

function timestamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/**
 * A step count above the schedule's training timesteps is only caught when plugins are built; a
 * sweep checks it for every point up front (schedules are plain numbers, cheap to create).
 */
async function checkSteps(loaded: LoadedExperiment, overrides: readonly string[]): Promise<void> {
  const r = loaded.resolved;
  const steps = r.sampler.options.steps;
  if (typeof steps !== 'number') return;
  const schedule = (await r.schedule.def.create(r.schedule.options, { seed: r.experiment.seed, print: () => {}, interactive: false })) as { numTrainTimesteps: number };
  if (steps > schedule.numTrainTimesteps) {
    throw new ConfigError({ path: 'sampler.steps', message: `${steps} sampling steps exceed the schedule's ${schedule.numTrainTimesteps} training timesteps (sweep point ${overrides.join(' ')})` });
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
