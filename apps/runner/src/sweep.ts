/**
 * `diffusionlab sweep`: the cartesian product of `key=a,b,c` axes, one directory per point, then a
 * comparison (`sweep.csv`, `sweep.json`, `sweep.png`, `report.html`). Points that differ only in
 * sampler, evaluation or reporter settings share one trained model: it is trained once and the other
 * points sample from its checkpoint, so a sampler sweep costs one training.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, DiffusionLabError, type LaunchContext, type TrainAccelerator, type Trial } from '@diffusionlab/core';
import { isConfigError, isDiffusionLabError } from '@diffusionlab/core';
import { unpackDir } from '@diffusionlab/launchers';
import { comparisonSpec, formatTable, keyScatterSpec, renderPng, renderSweepHtml, toCsv } from '@diffusionlab/reporters';
import { parseOverrides, resolvedConfigObject } from './config.js';
import { writeFileAtomic, writeJsonAtomic } from './files.js';
import { type LoadedExperiment, loadExperiment } from './load.js';
import { checkSampler, createPlugin } from './experiment.js';
import { timestamp } from './timestamp.js';
import { chooseLauncher } from './launchers.js';
import { type Distribution, describeDistribution, drawTrials, parseDistribution } from './search.js';
import { closeOutputDir, openOutputDir, recordOutput, removeOwnEntries } from './run-dir.js';
import { handleSweepSignals } from './sweep-interrupt.js';
import { type TrialPayload, type TrialProcess, trialExecutor, trialIdOf } from './trial.js';

type Json = Record<string, unknown>;

/** One sweep axis: a config key and the raw text of each value (as typed on the command line, or drawn). */
export interface SweepAxis {
  key: string;
  values: string[];
  /** A random-search axis: the distribution its values are drawn from. */
  dist?: Distribution;
  /** How the report lists a random axis (its distribution). */
  label?: string;
}

/** Random search settings: `--trials N` draws of every random axis from a generator seeded by `--seed`. */
export interface SearchOptions {
  trials?: number;
  seed?: number;
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
  /** Trainings run in this many parallel worker processes (1: in this process); the `local` launcher's `jobs`. */
  jobs?: number;
  /** The launcher: a built-in name (`local`, the default) or a package exporting `launchers`. */
  launcher?: string;
  /** The launcher's options (`{ jobs, attempts }` for local); default `{ jobs }` for local. */
  launcherOptions?: Record<string, unknown>;
  print?: (line: string) => void;
  cwd?: string;
  accelerator?: TrainAccelerator;
  /** Random search: how many points to draw (`--trials`); required when an axis is a distribution. */
  trials?: number;
  /** Random search: the seed of the draws (`--seed`, default 0); the same seed draws the same points. */
  searchSeed?: number;
  /** The entry forked for an isolated trial (`--jobs` > 1); default the built `trial-child.js` beside this module. */
  worker?: TrialProcess;
  /** False leaves SIGINT/SIGTERM alone (an embedding program handles them); default: stop the trials, report, release the folder and exit 130/143. */
  handleSignals?: boolean;
}

/** What a sweep returns: its folder and one row per point. */
export interface SweepResult {
  sweepDir: string;
  rows: SweepRow[];
  /** Number of distinct models trained. */
  trainings: number;
  failed: number;
  /** Trials run by this call (a resumed sweep skips the ones complete before). */
  ran: number;
}

/** Splits `key=a,b,c` into an axis, with the same rules as {@link parseOverrides} (which validates it). */
export function parseAxes(args: readonly string[]): SweepAxis[] {
  const axes = args.map((arg): SweepAxis => {
    const eq = arg.indexOf('=');
    const key = arg.slice(0, Math.max(eq, 0)).trim();
    const raw = arg.slice(eq + 1);
    const dist = eq > 0 ? parseDistribution(key, raw) : null;
    // The key is checked like any override's; a distribution's commas are not a list.
    parseOverrides([dist ? `${key}=0` : arg], true);
    if (dist) return { key, values: [], dist, label: describeDistribution(dist) };
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

/**
 * The points of a sweep, as one value per axis: the grid's cartesian product, crossed with
 * `--trials` draws of the random axes (whose `values` become the distinct values drawn).
 */
export function expandAxes(axes: SweepAxis[], search: SearchOptions = {}): string[][] {
  const random = axes.filter((a) => a.dist);
  if (search.trials !== undefined && (!Number.isInteger(search.trials) || search.trials < 1)) {
    throw new ConfigError({ path: '--trials', message: `must be a positive integer, got ${search.trials}` });
  }
  if (search.seed !== undefined && !Number.isInteger(search.seed)) throw new ConfigError({ path: '--seed', message: `must be an integer, got ${search.seed}` });
  if (random.length > 0 && search.trials === undefined) {
    throw new ConfigError(
      { path: random[0].key, message: `${random[0].label} is a random axis; say how many points to draw with --trials N` },
      { hint: `e.g. diffusionlab sweep <config> ${random[0].key}=${random[0].label?.replace(/ /g, '')} --trials 20 --seed 0` },
    );
  }
  if (random.length === 0 && search.trials !== undefined) {
    throw new ConfigError(
      { path: '--trials', message: 'draws random points, but no axis is a distribution' },
      { hint: 'write an axis as uniform(a,b), loguniform(a,b), int(a,b) or choice(a,b,…), e.g. training.learningRate=loguniform(1e-4,1e-2); a key=a,b list is a grid' },
    );
  }
  if (random.length === 0) return cartesian(axes);
  const draws = drawTrials(
    random.map((a) => a.dist as Distribution),
    search.trials as number,
    search.seed ?? 0,
  );
  random.forEach((a, j) => {
    a.values = [...new Set(draws.map((d) => d[j]))];
  });
  const grid = cartesian(axes.filter((a) => !a.dist));
  return grid.flatMap((g) =>
    draws.map((d) => {
      let gi = 0;
      let di = 0;
      return axes.map((a) => (a.dist ? d[di++] : g[gi++]));
    }),
  );
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
    throw new ConfigError(
      e.issues.map((i) => ({ ...i, message: `${i.message} (sweep point ${overrides.join(' ')})` })),
      { hint: e.hint },
    );
  }
}

/** Validates every point before any work; a bad value names the point and the key. */
export async function planSweep(
  configPath: string,
  args: readonly string[],
  sweepDir: string | ((firstName: string) => string),
  cwd: string,
  search: SearchOptions = {},
): Promise<{ axes: SweepAxis[]; points: SweepPoint[]; sweepDir: string }> {
  const axes = parseAxes(args);
  const combos = expandAxes(axes, search);
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

/** The record of a sweep's trials (`trials.json`): what a re-run of the same sweep skips. */
interface TrialRecord {
  config: string;
  /** Every trial id of the sweep: a re-run with the same set is the same sweep. */
  planned: string[];
  trials: Record<string, { name: string; status: 'complete' | 'failed'; attempts: number; error?: string }>;
}

function readTrialRecord(sweepDir: string): TrialRecord | null {
  try {
    const r = JSON.parse(readFileSync(join(sweepDir, TRIALS_FILE), 'utf8')) as TrialRecord;
    return r && typeof r.trials === 'object' && Array.isArray(r.planned) ? r : null;
  } catch {
    return null;
  }
}

const TRIALS_FILE = 'trials.json';

/**
 * Writes a trial's output folder that another machine produced and packed, replacing what an earlier
 * attempt left; a sampling trial's `source` then names its model's folder here, not the worker's copy.
 */
function unpackTrialFiles(dir: string, files: Record<string, string>, summary: Json | undefined, modelDir: string | undefined): void {
  if (existsSync(dir)) removeOwnEntries(dir);
  unpackDir(dir, files);
  if (summary && modelDir && typeof summary.source === 'string') {
    summary.source = modelDir;
    writeJsonAtomic(join(dir, 'summary.json'), summary);
  }
}

const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;

/** The trials of a sweep: one per distinct resolved config (its id is the config's hash, so a point listed twice runs once). */
function planTrials(points: readonly SweepPoint[], ids: readonly string[], configAbs: string, args: readonly string[]): { trials: Trial[]; dirOf: Map<string, string> } {
  const dirOf = new Map<string, string>();
  const trials: Trial[] = [];
  for (const p of points) {
    const id = ids[p.index];
    if (dirOf.has(id)) continue;
    dirOf.set(id, p.dir);
    const trains = p.trainer === p.index;
    const payload: TrialPayload = {
      mode: trains ? 'train' : 'sample',
      configPath: configAbs,
      overrides: p.overrides,
      raw: p.loaded.raw,
      argv: trains ? ['run', configAbs, ...p.overrides, '--out', p.dir] : ['sweep', configAbs, ...args],
    };
    trials.push({ id, name: p.name, modelFrom: trains ? undefined : ids[p.trainer], payload });
  }
  return { trials, dirOf };
}

/**
 * Takes the sweep folder: the same sweep again resumes (its complete trials' summaries are read back,
 * so they are skipped); another sweep or run there is refused unless --force (which removes only what
 * diffusionlab wrote). Locks it, lists the points in its manifest and writes the trial record.
 */
function openSweepDir(
  sweepDir: string,
  points: readonly SweepPoint[],
  trials: readonly Trial[],
  dirOf: ReadonlyMap<string, string>,
  configAbs: string,
  opts: { force: boolean; print: (line: string) => void },
): { record: TrialRecord; summaries: Map<string, Json>; resume: boolean; saveRecord: () => void } {
  const previous = readTrialRecord(sweepDir);
  const sameSweep = previous !== null && previous.planned.length === dirOf.size && previous.planned.every((id) => dirOf.has(id));
  const resume = sameSweep && !opts.force;
  const held = (entries: readonly string[]) =>
    entries.some((e) => ['sweep.json', 'config.yaml', 'summary.json', TRIALS_FILE].includes(e)) || points.some((p) => entries.includes(p.name));
  openOutputDir(sweepDir, { force: opts.force, resume, holds: held, what: 'a sweep or run', print: opts.print });
  // Trials write the points: the sweep's manifest lists them up front.
  for (const p of points) recordOutput(p.dir);
  recordOutput(join(sweepDir, TRIALS_FILE));

  const record: TrialRecord = { config: configAbs, planned: [...dirOf.keys()], trials: {} };
  const summaries = new Map<string, Json>();
  if (resume && previous) {
    for (const t of trials) {
      const r = previous.trials[t.id];
      if (r?.status !== 'complete') continue;
      try {
        summaries.set(t.id, JSON.parse(readFileSync(join(dirOf.get(t.id) as string, 'summary.json'), 'utf8')) as Json);
        record.trials[t.id] = r;
      } catch {
        // Its folder lost the summary: the trial runs again.
      }
    }
  }
  const saveRecord = () => writeJsonAtomic(join(sweepDir, TRIALS_FILE), record);
  saveRecord();
  return { record, summaries, resume, saveRecord };
}

/** Writes the sweep's comparison: sweep.png (when a figure applies), sweep.csv, report.html, then sweep.json, whose presence marks a finished sweep. */
async function writeSweepOutputs(
  sweepDir: string,
  rows: SweepRow[],
  axes: SweepAxis[],
  info: { title: string; configAbs: string; trainings: number; jobs: number; launcher: string; search?: { trials?: number; seed: number } },
  print: (line: string) => void,
): Promise<void> {
  // A random search has no grid to draw lines along: each metric against each swept key instead.
  const random = axes.filter((a) => a.dist);
  const scales = Object.fromEntries(random.map((a) => [a.key, a.dist?.kind === 'loguniform' ? 'log' : a.dist?.kind === 'choice' ? 'nominal' : 'linear'] as const));
  const spec = random.length > 0 ? keyScatterSpec(rows, axes, scales) : comparisonSpec(rows, axes);
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
  writeFileAtomic(join(sweepDir, 'report.html'), renderSweepHtml({ title: info.title, rows, axes, png, config: info.configAbs, trainings: info.trainings }));
  writeJsonAtomic(join(sweepDir, 'sweep.json'), {
    config: info.configAbs,
    axes,
    trainings: info.trainings,
    jobs: info.jobs,
    launcher: info.launcher,
    ...(random.length > 0 ? { search: info.search } : {}),
    finishedAt: new Date().toISOString(),
    points: rows,
  });
}

/** `diffusionlab sweep <config> key=a,b …`: validates every point, trains once per model, samples the rest, compares. */
export async function runSweep(configPath: string, args: readonly string[], opts: SweepOptions = {}): Promise<SweepResult> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const cwd = opts.cwd ?? process.cwd();
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new ConfigError({ path: '--jobs', message: `must be a positive integer, got ${jobs}` });
  if (args.length === 0) throw new DiffusionLabError('sweep needs at least one axis key=a,b', { hint: 'diffusionlab sweep examples/seed-1d.yaml sampler.steps=20,50,100' });
  const configAbs = resolve(cwd, configPath);
  const launcherName = opts.launcher ?? 'local';
  const chosen = await chooseLauncher(launcherName, opts.launcherOptions ?? (launcherName === 'local' ? { jobs } : {}), cwd);
  const { axes, points, sweepDir } = await planSweep(configAbs, args, opts.out ? resolve(cwd, opts.out) : (name) => join(cwd, 'sweeps', `${name}-${timestamp()}`), cwd, {
    trials: opts.trials,
    seed: opts.searchSeed,
  });
  const ids = points.map((p) => trialIdOf(resolvedConfigObject(p.loaded.resolved)));
  const { trials, dirOf } = planTrials(points, ids, configAbs, args);
  const { record, summaries, resume, saveRecord } = openSweepDir(sweepDir, points, trials, dirOf, configAbs, { force: opts.force ?? false, print });
  const errors = new Map<string, string>();
  const attempts = new Map<string, number>();
  const todo = trials.filter((t) => !summaries.has(t.id));

  const trainers = points.filter((p) => p.trainer === p.index);
  print(
    `sweep: ${points.length} point(s), ${trainers.length} distinct model(s) to train${jobs > 1 && launcherName === 'local' ? ` with ${jobs} workers` : ''}${launcherName !== 'local' ? ` on launcher ${chosen.def.name}` : ''} → ${sweepDir}`,
  );
  if (resume) print(`sweep: resuming: ${trials.length - todo.length} of ${trials.length} trial(s) complete already; running the other ${todo.length}`);

  let lastDone = -1;
  const context: LaunchContext = {
    sweepDir,
    trialDir: (id) => dirOf.get(id) ?? join(sweepDir, id),
    execute: trialExecutor(cwd, { accelerator: opts.accelerator, process: opts.worker }),
    onResult(r) {
      const name = trials.find((t) => t.id === r.id)?.name ?? r.id;
      const modelFrom = trials.find((t) => t.id === r.id)?.modelFrom;
      if (r.files && r.status === 'complete')
        unpackTrialFiles(dirOf.get(r.id) ?? join(sweepDir, r.id), r.files, r.summary, modelFrom === undefined ? undefined : dirOf.get(modelFrom));
      attempts.set(r.id, r.attempts);
      if (r.status === 'complete' && r.summary) summaries.set(r.id, r.summary);
      else errors.set(r.id, r.error ?? 'failed');
      record.trials[r.id] = { name, status: r.status, attempts: r.attempts, ...(r.error ? { error: r.error } : {}) };
      saveRecord();
    },
    onProgress(p) {
      if (p.done === lastDone || todo.length < 2) return;
      lastDone = p.done;
      const eta = p.etaSeconds === undefined || p.done === p.total ? '' : `, ETA ${clock(p.etaSeconds)}`;
      print(`sweep: ${p.done}/${p.total} done, ${p.running} running, ${p.failed} failed${eta}`);
    },
    print,
  };
  const launcher = await chosen.def.create(chosen.options);
  const close = async () => {
    await launcher.close?.();
  };
  const stopHandling = opts.handleSignals === false ? () => {} : handleSweepSignals({ sweepDir, total: trials.length, complete: () => summaries.size, close });
  try {
    if (todo.length > 0) await launcher.launch(todo, context);
  } finally {
    stopHandling();
    await close();
  }

  const rows = points.map((p) => {
    const id = ids[p.index];
    const row = sweepRow(p, points, summaries.get(id) ?? null, summaries.has(id) ? undefined : (errors.get(id) ?? 'not run'));
    if (!summaries.has(id)) row.attempts = attempts.get(id) ?? 0;
    return row;
  });
  await writeSweepOutputs(
    sweepDir,
    rows,
    axes,
    {
      title: `diffusionlab sweep: ${points[0].loaded.resolved.experiment.name}`,
      configAbs,
      trainings: trainers.length,
      jobs,
      launcher: chosen.def.name,
      search: { trials: opts.trials, seed: opts.searchSeed ?? 0 },
    },
    print,
  );
  closeOutputDir(sweepDir);
  print('');
  for (const l of formatTable(rows, axes)) print(l);
  print(`\nSweep directory: ${sweepDir}`);
  return { sweepDir, rows, trainings: trainers.length, failed: rows.filter((r) => r.status === 'failed').length, ran: todo.length };
}
