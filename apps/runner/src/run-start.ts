/**
 * How `run` and `sample` start a run directory, one way for both: {@link prepareRunDir} opens it
 * (and takes its lock), then {@link announceRun} writes the resolved config and env.json, creates
 * the reporters inside it, records the starting warnings and sends `onRunStart`. What differs
 * between the two commands (what the header says was trained, where the config came from) is
 * passed in.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { type PluginContext, scheduleDiagnostics, type ScheduleDiagnostics } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import YAML from 'yaml';
import type { BackendInfo } from './backend.js';
import { type ResolvedExperiment, resolvedConfigObject } from './config.js';
import { type Built, createPlugin, type Plugins } from './experiment.js';
import { writeFileAtomic, writeJsonAtomic } from './files.js';
import { ReporterSet } from './reporter-set.js';
import { openOutputDir, recordOutput } from './run-dir.js';
import { timestamp } from './timestamp.js';
import { configAdvice, WarningLog } from './warnings.js';

/** Files that mark a directory as a run (refused as `--out` without `--force`). */
export const RUN_MARKERS = ['config.yaml', 'summary.json', 'env.json'];

/**
 * Picks and prepares the run directory and takes its lock; refuses one that already holds a run
 * unless forced (then only diffusionlab's own files are removed) or resumed. See run-dir.ts.
 */
export function prepareRunDir(name: string, out: string | undefined, force: boolean, cwd: string, o: { resume?: boolean; print?: (line: string) => void } = {}): string {
  const runsRoot = resolve(cwd, 'runs');
  let dir = out ? resolve(cwd, out) : join(runsRoot, `${name}-${timestamp()}`);
  if (!out) {
    for (let i = 2; existsSync(dir); i++) dir = join(runsRoot, `${name}-${timestamp()}-${i}`);
  }
  const print = o.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  return openOutputDir(dir, { force, resume: o.resume, holds: (entries) => entries.some((e) => RUN_MARKERS.includes(e)), what: 'a run', print });
}

/** Versions of the packages a run used, for env.json. */
export function packageVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const names = [
    'diffusionlab',
    '@diffusionlab/core',
    '@diffusionlab/schedules',
    '@diffusionlab/datasets',
    '@diffusionlab/denoisers',
    '@diffusionlab/samplers',
    '@diffusionlab/metrics',
    '@diffusionlab/reporters',
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-backend-cpu',
  ];
  const out: Record<string, string> = {};
  for (const n of names) {
    try {
      out[n] = require(`${n}/package.json`).version;
    } catch {
      // Not resolvable from here (e.g. exports map hides package.json): leave it out.
    }
  }
  return out;
}

/**
 * What env.json records, the same for `run` and `sample`: versions, platform, backend (and why),
 * seed, command line and overrides; `extra` says where the config came from (file or source run).
 */
export function envRecord(
  r: ResolvedExperiment,
  built: Pick<Built, 'backend'>,
  opts: { argv?: readonly string[]; overrides?: readonly string[] },
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    backend: built.backend.name,
    backendReason: built.backend.reason,
    matMulGradientFix: built.backend.matMulGradientFix ?? false,
    tfjs: tf.version_core,
    seed: r.experiment.seed,
    versions: packageVersions(),
    command: opts.argv ?? process.argv.slice(2),
    overrides: opts.overrides ?? [],
    ...extra,
    startedAt: new Date().toISOString(),
  };
}

/**
 * The schedule's diagnostics and every warning a run or sample directory starts with (dropped
 * options, schedule diagnostics, the sampler's advice, dataset notes), recorded in `log`.
 */
export function startWarnings(r: ResolvedExperiment, built: Plugins, log = new WarningLog(() => {})): { diagnostics: ScheduleDiagnostics; warnings: string[] } {
  const diagnostics = scheduleDiagnostics(built.schedule);
  for (const a of configAdvice(r, built, diagnostics)) log.add(a);
  for (const w of built.dataset.warnings ?? []) log.add(w);
  return { diagnostics, warnings: log.messages };
}

/** Creates the reporters once the run directory exists (they write into it). */
export async function createReporters(r: ResolvedExperiment, ctx: PluginContext): Promise<ReporterSet> {
  const list = [];
  for (const slot of r.reporters) list.push({ name: slot.use, r: await createPlugin<'reporter'>(slot, ctx) });
  return new ReporterSet(list, ctx.print);
}

/** What the header of a run or sample directory says about the model (a sample trains nothing, so it describes the run it reuses). */
export interface RunHeader {
  totalSteps: number;
  epochs: number;
  parameterCount: number;
}

/** The experiment as announced: built once, now with the reporters that write into the run directory. */
export interface AnnouncedRun {
  built: Built;
  /** The schedule's diagnostics, for summary.json. */
  diagnostics: ScheduleDiagnostics;
}

/**
 * Announces a run in its opened directory: writes config.yaml (resolved) and env.json, creates the
 * reporters there, records the starting warnings in `log` and sends `onRunStart`, then prints the
 * warnings. `source` says where the config came from (`{ config }` for a run, `{ source }` for a
 * sample). The one way `run` and `sample` start, so their directories read alike.
 */
export async function announceRun(a: {
  r: ResolvedExperiment;
  plugins: Plugins;
  backend: BackendInfo;
  runDir: string;
  /** The context the plugins were created with; the reporters also get the run directory. */
  ctx: PluginContext;
  log: WarningLog;
  opts: { argv?: readonly string[]; overrides?: readonly string[] };
  source: Record<string, unknown>;
  header: RunHeader;
}): Promise<AnnouncedRun> {
  const { r, plugins, runDir, log } = a;
  const resolvedConfig = resolvedConfigObject(r);
  writeFileAtomic(join(runDir, 'config.yaml'), YAML.stringify(resolvedConfig));
  const reporters = await createReporters(r, { ...a.ctx, runDir, recordOutput });
  const built: Built = { ...plugins, backend: a.backend, reporters };
  const env = envRecord(r, built, a.opts, a.source);
  writeJsonAtomic(join(runDir, 'env.json'), env);
  const { diagnostics, warnings } = startWarnings(r, built, log);
  await reporters.emit('onRunStart', {
    runDir,
    name: r.experiment.name,
    config: resolvedConfig,
    env,
    dataShape: plugins.dataset.shape,
    schedule: plugins.schedule,
    diagnostics,
    ...a.header,
    warnings,
  });
  log.flush();
  return { built, diagnostics };
}
