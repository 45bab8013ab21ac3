/**
 * Launchers: where the trials of a sweep run. The runner plans a sweep (which points, which share a
 * model) and knows how to run one trial; a launcher decides where and when — forked processes on
 * this machine (`local`), workers that pull from a queue (`bullmq`), or a cluster scheduler someone
 * adds in their own package. As with Hydra's sweeper/launcher split, the two meet only here.
 */
import type { z } from 'zod';

/** Plain JSON, as trials carry it between processes and machines. */
export type TrialJson = Record<string, unknown>;

/**
 * One unit of sweep work. `id` is a hash of the trial's resolved config, so the same point enqueued
 * twice (a sweep started again, two coordinators) is one trial and runs once.
 */
export interface Trial {
  /** Hash of the resolved config (see {@link canonicalJson}); equal configs, equal ids. */
  readonly id: string;
  /** The point's folder name inside the sweep directory, for people and logs. */
  readonly name: string;
  /** Id of the trial that trains the model this trial samples from; absent when it trains its own. */
  readonly modelFrom?: string;
  /** What the runner needs to run it; launchers carry it unchanged and never read it. */
  readonly payload: TrialJson;
}

/** Where one execution of a trial reads its model and writes its output, on the machine it runs on. */
export interface TrialPlace {
  /** The trial's output directory (created by the run; replaced when a failed attempt left one). */
  outDir: string;
  /** The run directory of the trial's model ({@link Trial.modelFrom}); required when that is set. */
  modelDir?: string;
  /**
   * Run the trial in a process of its own: a long training then never blocks the caller's event
   * loop (a queue's lock renewal), and a crash ends only that trial.
   */
  isolate: boolean;
  /** Receives the trial's output lines. */
  print: (line: string) => void;
}

/** Runs one trial where told and resolves with its `summary.json`; rejects with a one-line reason. */
export type TrialExecutor = (trial: Trial, place: TrialPlace) => Promise<TrialJson>;

/** What became of a trial, reported once per trial when it is final. */
export interface TrialResult {
  id: string;
  status: 'complete' | 'failed';
  /** The trial's summary.json (complete trials). */
  summary?: TrialJson;
  /** Why it failed, one line (failed trials). */
  error?: string;
  /** How many times it was started (1 when it completed the first time). */
  attempts: number;
  /**
   * The trial's output directory packed as relative path → base64 content, when it was produced
   * where the sweep directory is not reachable; the runner unpacks it into the trial's folder.
   */
  files?: Record<string, string>;
}

/** A sweep's progress, for the line the coordinator prints. */
export interface LaunchProgress {
  total: number;
  done: number;
  running: number;
  failed: number;
  /** Seconds to go, from the mean time per finished trial; undefined before the first finishes. */
  etaSeconds?: number;
}

/** What the runner gives a launcher for one sweep. */
export interface LaunchContext {
  /** The sweep directory on this machine (the coordinator's). */
  sweepDir: string;
  /** The output directory on this machine (inside {@link sweepDir}) of the trial with this id, planned now or complete before. */
  trialDir(id: string): string;
  /** Runs one trial on this machine; launchers that run trials elsewhere call their worker's instead. */
  execute: TrialExecutor;
  /** Records a final result (writes the trial's folder and marks it complete or failed). */
  onResult(result: TrialResult): void;
  /** Receives progress whenever it changes. */
  onProgress?(progress: LaunchProgress): void;
  print(line: string): void;
}

/** A launcher instance: runs every trial given (none of them complete yet) and reports each once. */
export interface Launcher {
  readonly name: string;
  /** Resolves when every trial has a result; a trial whose model failed fails without running. */
  launch(trials: readonly Trial[], context: LaunchContext): Promise<void>;
  /** Releases connections and processes. */
  close?(): Promise<void>;
}

/** What the runner gives a launcher's worker side (`diffusionlab worker`). */
export interface WorkerContext {
  /** Runs one trial on this machine (in its own process when `isolate`). */
  execute: TrialExecutor;
  /** A directory for trial outputs and fetched models on this machine. */
  scratchDir: string;
  print(line: string): void;
  /** Aborted when the worker should stop (SIGINT/SIGTERM): finish or hand back the trials in hand, then resolve. */
  signal: AbortSignal;
}

/**
 * A launcher plugin: `{ kind: 'launcher', name, description, options, create }`, loaded by package
 * name (`--launcher <package>`, from its exported `launchers` array) like other plugins. `work` is
 * the pulling side for launchers whose trials run on other machines.
 */
export interface LauncherDefinition<S extends z.ZodType = z.ZodType> {
  readonly kind: 'launcher';
  /** The name `--launcher` takes. */
  readonly name: string;
  /** One line for help and errors. */
  readonly description: string;
  /** The launcher's options (from `--jobs`, `--redis`, `--attempts`, …); a zod object with defaults. */
  readonly options: S;
  create(options: z.output<S>): Launcher | Promise<Launcher>;
  /** Serves trials until `context.signal` aborts (the `diffusionlab worker` command). */
  work?(options: z.output<S>, context: WorkerContext): Promise<void>;
}

/** Any launcher definition, for lists of them. */
// biome-ignore lint/suspicious/noExplicitAny: lists of launchers mix option types.
export type AnyLauncherDefinition = LauncherDefinition<any>;

/** Identity helper that checks `create` and `work` against the options schema. */
export function defineLauncher<S extends z.ZodType>(def: LauncherDefinition<S>): LauncherDefinition<S> {
  return def;
}

/** True for an object shaped like a {@link LauncherDefinition}, for checking what a package exports. */
export function isLauncherDefinition(v: unknown): v is AnyLauncherDefinition {
  const d = v as Partial<AnyLauncherDefinition> | null;
  return typeof d === 'object' && d !== null && d.kind === 'launcher' && typeof d.name === 'string' && typeof d.create === 'function';
}

/**
 * JSON with object keys sorted at every level, so two configs that are equal as data give the
 * same text (and the same trial id) whatever order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/**
 * The ETA of a sweep: the remaining trials at the wall-clock seconds per finished trial so far (the
 * throughput, so it already accounts for the workers in parallel); undefined before the first.
 */
export function etaSeconds(done: number, total: number, elapsedSeconds: number): number | undefined {
  if (done >= total) return 0;
  return done > 0 ? (total - done) * (elapsedSeconds / done) : undefined;
}
