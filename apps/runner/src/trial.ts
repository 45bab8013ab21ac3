/**
 * One sweep trial, as the runner runs it for any launcher: train a point (`diffusionlab run` of the
 * point's config) or sample from a trained model (`sample` with the point's settings), in this
 * process or in a forked one (`isolate`). The trial's payload is plain JSON, so a worker on another
 * machine can run it without the coordinator's files.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, canonicalJson, DiffusionLabError, type TrainAccelerator, type Trial, type TrialExecutor, type TrialPlace } from '@diffusionlab/core';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { readRunDirectory, sampleFromRun } from './sample.js';

type Json = Record<string, unknown>;

/** What a trial carries: enough to run it here or on a machine that has none of the coordinator's files. */
export interface TrialPayload extends Json {
  /** `train`: a full run of the point; `sample`: sample from the model of {@link Trial.modelFrom}. */
  mode: 'train' | 'sample';
  /** The sweep's config file (absolute, on the coordinator's machine); used where it exists. */
  configPath: string;
  /** The point's `key=value` overrides. */
  overrides: string[];
  /** The point's config, overrides applied: used where {@link configPath} does not exist. */
  raw: Json;
  /** The command recorded in the trial's env.json. */
  argv: string[];
}

/** A trial's id: the first 16 hex digits of the SHA-256 of its resolved config as canonical JSON. */
export function trialIdOf(resolvedConfig: unknown): string {
  return createHash('sha256').update(canonicalJson(resolvedConfig)).digest('hex').slice(0, 16);
}

/** The entry forked for an isolated trial: the built trial-child.js beside this module (or a test's). */
export interface TrialProcess {
  script: string;
  execArgv?: string[];
}

/**
 * The default trial process: dist/trial-child.js beside this module; when this module runs from
 * TypeScript source (a loader in `process.execArgv`), trial-child.ts under the same loader.
 */
export function defaultTrialProcess(): TrialProcess {
  const self = fileURLToPath(import.meta.url);
  const here = dirname(self);
  if (self.endsWith('.ts') && existsSync(join(here, 'trial-child.ts'))) return { script: join(here, 'trial-child.ts'), execArgv: process.execArgv };
  for (const p of [join(here, 'trial-child.js'), join(here, '..', 'dist', 'trial-child.js')]) if (existsSync(p)) return { script: p };
  throw new DiffusionLabError('running trials in their own processes needs the built CLI (dist/trial-child.js)', {
    hint: 'build it with `pnpm --filter diffusionlab build`, or use --jobs 1',
  });
}

/**
 * Whether `outDir` holds what an interrupted attempt of a training trial leaves to continue from: a
 * run directory (config.yaml) with a checkpoint and no summary.json yet.
 */
export function hasResumableCheckpoint(outDir: string): boolean {
  return existsSync(join(outDir, 'config.yaml')) && existsSync(join(outDir, 'checkpoint')) && !existsSync(join(outDir, 'summary.json'));
}

/**
 * Runs a trial in this process and returns its summary. A training trial whose folder holds an
 * earlier attempt's checkpoint resumes from it (exact resume: the result equals an uninterrupted run's).
 */
export async function runTrialHere(payload: TrialPayload, place: Omit<TrialPlace, 'isolate'>, cwd: string, accelerator?: TrainAccelerator): Promise<Json> {
  if (payload.mode === 'sample') {
    if (!place.modelDir) throw new DiffusionLabError('a sampling trial needs its model (the trained run directory)');
    const res = await sampleFromRun(readRunDirectory(place.modelDir, cwd), payload.raw, {
      out: place.outDir,
      force: true,
      // The sweep's own config: its plugins are the user's, loaded already to plan the sweep.
      trust: true,
      print: place.print,
      argv: payload.argv,
      overrides: payload.overrides,
      cwd,
      accelerator,
    });
    return res.summary;
  }
  let configPath = payload.configPath;
  let overrides = payload.overrides;
  let scratch: string | undefined;
  if (!existsSync(configPath)) {
    // Another machine: the point's config travelled as data.
    scratch = mkdtempSync(join(tmpdir(), 'dl-trial-'));
    configPath = join(scratch, 'config.json');
    writeFileSync(configPath, JSON.stringify(payload.raw));
    overrides = [];
  }
  try {
    const loaded = await loadExperiment(configPath, overrides, cwd);
    const run = (resume: boolean) =>
      runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), {
        out: place.outDir,
        force: !resume,
        resume,
        print: place.print,
        argv: payload.argv,
        overrides: payload.overrides,
        configPath: loaded.configPath,
        cwd,
        accelerator,
      });
    if (hasResumableCheckpoint(place.outDir)) {
      // An earlier attempt (a killed worker, an interrupted sweep) left a checkpoint: continue from it exactly.
      try {
        const res = await run(true);
        return res.summary;
      } catch (e) {
        // A checkpoint this config cannot continue from is refused before the folder is touched: start over.
        if (!(e instanceof ConfigError) || !e.issues.some((i) => i.path === '--resume')) throw e;
        place.print(`the earlier attempt's checkpoint cannot be resumed (${e.issues[0].message}); training from the start`);
      }
    }
    const res = await run(false);
    return res.summary;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** Trial processes forked by this process and not yet exited; why: an interrupted sweep stops them, or they would train on unattended. */
const liveTrialProcesses = new Set<ChildProcess>();

/**
 * Sends `signal` to every trial process this process forked that is still running; each handles it
 * as an interrupted run does (FAILED written, its checkpoint kept for the next attempt). Returns how many.
 */
export function stopTrialProcesses(signal: NodeJS.Signals): number {
  for (const child of liveTrialProcesses) child.kill(signal);
  return liveTrialProcesses.size;
}

/**
 * Resolves once every trial process this process forked has exited, or after `ms`; why: a sweep that
 * exits first closes their output pipes while they record their interruption, and they die mid-write.
 */
export async function trialProcessesExited(ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((r) => {
    timer = setTimeout(r, ms);
  });
  await Promise.race([Promise.all([...liveTrialProcesses].map((child) => once(child, 'close'))), timeout]);
  clearTimeout(timer);
}

/** Runs a trial in a forked process (see trial-child.ts); resolves with its summary.json, rejects with its error line. */
export function runTrialForked(proc: TrialProcess, payload: TrialPayload, place: Omit<TrialPlace, 'isolate'>, cwd: string): Promise<Json> {
  const dir = mkdtempSync(join(tmpdir(), 'dl-trial-'));
  const file = join(dir, 'trial.json');
  writeFileSync(file, JSON.stringify({ payload, outDir: place.outDir, modelDir: place.modelDir }));
  return new Promise<Json>((resolvePromise, reject) => {
    const child = fork(proc.script, [file], { cwd, execArgv: proc.execArgv ?? [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    liveTrialProcesses.add(child);
    let errText = '';
    const lines = (chunk: Buffer, isErr: boolean) => {
      const text = chunk.toString('utf8');
      if (isErr) errText += text;
      for (const l of text.split('\n')) if (l.trim() !== '') place.print(l);
    };
    child.stdout?.on('data', (c: Buffer) => lines(c, false));
    child.stderr?.on('data', (c: Buffer) => lines(c, true));
    child.on('error', (e) => {
      errText += e.message;
    });
    child.on('close', (code, signal) => {
      liveTrialProcesses.delete(child);
      rmSync(dir, { recursive: true, force: true });
      if (code === 0) {
        try {
          resolvePromise(JSON.parse(readFileSync(join(place.outDir, 'summary.json'), 'utf8')) as Json);
        } catch (e) {
          reject(new Error(`the trial finished without a readable summary.json: ${(e as Error).message}`));
        }
        return;
      }
      const errLine = errText.split('\n').find((l) => l.startsWith('error:')) ?? errText.trim().split('\n').pop() ?? '';
      reject(new Error(errLine.replace(/^error:\s*/, '') || (signal ? `the trial process was killed (${signal})` : `the trial process exited with code ${code}`)));
    });
  });
}

/** The runner's {@link TrialExecutor}: in this process, or forked when the launcher asks for isolation. */
export function trialExecutor(cwd: string, opts: { accelerator?: TrainAccelerator; process?: TrialProcess } = {}): TrialExecutor {
  let proc = opts.process;
  return (trial: Trial, place: TrialPlace) => {
    const payload = trial.payload as TrialPayload;
    mkdirSync(dirname(place.outDir), { recursive: true });
    if (payload.mode === 'train') place.print(`training (${payload.overrides.join(' ')})`);
    if (!place.isolate) return runTrialHere(payload, place, cwd, opts.accelerator);
    proc ??= defaultTrialProcess();
    return runTrialForked(proc, payload, place, cwd);
  };
}
