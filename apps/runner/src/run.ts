/**
 * One experiment end to end: plugins → data → training → checkpoint → sampling → evaluation →
 * reporters. Everything is validated before the run directory is created; a failure after that
 * leaves a `FAILED` marker and keeps the last checkpoint.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import {
  batchesPerEpoch,
  type Advice,
  type Dataset,
  type DatasetInfo,
  type Denoiser,
  type DenoiserModel,
  encodeNpy,
  generateSamples,
  type Metric,
  type NoiseSchedule,
  type PluginContext,
  type PluginInstances,
  type PluginKind,
  type Reporter,
  Rng,
  type Sampler,
  ConfigError,
  DiffusionLabError,
  scheduleDiagnostics,
  type ScheduleDiagnostics,
  type TrainAccelerator,
  type TrainingSet,
  train,
  trainingLength,
} from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import YAML from 'yaml';
import { type BackendInfo, setupBackend } from './backend.js';
import { type ResolvedExperiment, type ResolvedSlot, resolvedConfigObject } from './config.js';
import { EpochLog, LOSS_LOG, METRICS_LOG, readLossLog, truncateEpochLog } from './epoch-log.js';
import { eventLoopYielder, FailureRecorder, failureReason, takePendingSignals } from './failure.js';
import { encodeTrainState, saveCheckpoint, writeFileAtomic, writeJsonAtomic } from './files.js';
import { userError } from './io-errors.js';
import { removeStaleTemps } from './litter.js';
import { planResume, type ResumePlan, type RunLength, resumeModel } from './resume.js';
import { closeOutputDir, openOutputDir, recordOutput } from './run-dir.js';
import { checkDivergence, type Divergence } from './divergence.js';
import { checkDatasetMemory, checkRunMemory } from './limits.js';
import { chooseSamplingPath } from './sampling-path.js';
import { configAdvice, WarningLog } from './warnings.js';

export { chooseSamplingPath, DDPM_THREADS_MIN_WORK, ddpmThreads, FUSED_DDPM_PATH, type SamplingPath, type SamplingPathParams } from './sampling-path.js';

/** How the CLI (or a test) runs an experiment. */
export interface RunOptions {
  /** Run directory; default `runs/<name>-<timestamp>` under cwd. */
  out?: string;
  /** Overwrite a directory that already holds a run. */
  force?: boolean;
  /** Continue the run in `out` from its last periodic checkpoint, to the same final step count. */
  resume?: boolean;
  print?: (line: string) => void;
  interactive?: boolean;
  /** Recorded in env.json. */
  argv?: readonly string[];
  overrides?: readonly string[];
  configPath?: string;
  cwd?: string;
  /** Fast paths to offer the training loop (the CLI passes the kernels package's). */
  accelerator?: TrainAccelerator;
}

/** What a finished run returns to callers (the CLI prints the directory; tests read the summary). */
export interface RunResult {
  runDir: string;
  summary: Record<string, unknown>;
}

/** Files that mark a directory as a run (refused as `--out` without `--force`). */
export const RUN_MARKERS = ['config.yaml', 'summary.json', 'env.json'];

function timestamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/**
 * Picks and prepares the run directory and takes its lock; refuses one that already holds a run
 * unless forced (then only diffusionlab's own files are removed) or resumed. See run-dir.ts.
 */
export function prepareRunDir(
  name: string,
  out: string | undefined,
  force: boolean,
  cwd: string,
  o: { resume?: boolean; print?: (line: string) => void } = {},
): string {
  const runsRoot = resolve(cwd, 'runs');
  let dir = out ? resolve(cwd, out) : join(runsRoot, `${name}-${timestamp()}`);
  if (!out) {
    for (let i = 2; existsSync(dir); i++) dir = join(runsRoot, `${name}-${timestamp()}-${i}`);
  }
  const print = o.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  return openOutputDir(dir, { force, resume: o.resume, holds: (entries) => entries.some((e) => RUN_MARKERS.includes(e)), what: 'a run', print });
}

/**
 * Checks that `out` holds an unfinished run of this very config with a resumable checkpoint, and
 * says how it resumes ({@link planResume}).
 */
export function checkResumable(resolvedConfig: Record<string, unknown>, out: string | undefined, cwd: string, length: RunLength): ResumePlan {
  if (!out) throw new ConfigError({ path: '--resume', message: 'needs --out DIR: the run directory to continue' });
  const dir = resolve(cwd, out);
  const cfgPath = join(dir, 'config.yaml');
  if (!existsSync(cfgPath)) throw new ConfigError({ path: '--out', message: `${dir} is not a run directory (no config.yaml), so there is nothing to resume` });
  const saved = YAML.parse(readFileSync(cfgPath, 'utf8'));
  const diffs = diffKeys(saved, resolvedConfig);
  if (diffs.length > 0) {
    throw new ConfigError({ path: diffs[0], message: `differs from the run being resumed (${diffs.join(', ')}); resume with the same config and overrides` });
  }
  if (existsSync(join(dir, 'summary.json'))) throw new ConfigError({ path: '--resume', message: `${dir} already finished (summary.json exists)` });
  // A run killed mid-write left temp folders (and maybe a checkpoint swap half done): tidy them first.
  removeStaleTemps(dir);
  removeStaleTemps(join(dir, 'checkpoint'));
  return planResume(dir, length);
}

/** Dotted keys where two plain objects differ. */
function diffKeys(a: unknown, b: unknown, prefix = ''): string[] {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) || Array.isArray(b)) {
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(root)'];
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => diffKeys((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k));
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

async function create<K extends PluginKind>(slot: ResolvedSlot, ctx: PluginContext): Promise<PluginInstances[K]> {
  return (await slot.def.create(slot.options, ctx)) as PluginInstances[K];
}

/** Maps model-space rows back to data space using the dataset's standardisation. */
export function toDataSpace(x: Float32Array, info: DatasetInfo): Float32Array {
  const st = info.standardization;
  if (!st) return x;
  const D = st.mean.length;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * st.std[i % D] + st.mean[i % D];
  return out;
}

/** Calls one hook on every reporter; a failing reporter is reported and recorded, never fatal. */
export class ReporterSet {
  readonly errors: string[] = [];
  constructor(
    private readonly reporters: { name: string; r: Reporter }[],
    private readonly print: (line: string) => void,
  ) {}

  async emit<H extends keyof Reporter>(hook: H, event: unknown, only: readonly { name: string; r: Reporter }[] = this.reporters): Promise<void> {
    for (const { name, r } of only) {
      const fn = r[hook] as ((e: unknown) => void | Promise<void>) | undefined;
      if (typeof fn !== 'function') continue;
      try {
        await fn.call(r, event);
      } catch (e) {
        const msg = `reporter "${name}" failed in ${String(hook)}: ${(e as Error).message}`;
        this.errors.push(msg);
        this.print(`warning: ${msg} (the run continues; the model is kept)`);
      }
    }
  }

  /**
   * `onRunEnd`, then once more for the reporters that finished before a later one failed: they wrote
   * the summary (summary.json, report.html) without that failure, and it must be listed there too.
   */
  async emitRunEnd(event: unknown): Promise<void> {
    const done: { name: string; r: Reporter }[] = [];
    let stale: { name: string; r: Reporter }[] = [];
    for (const entry of this.reporters) {
      const before = this.errors.length;
      await this.emit('onRunEnd', event, [entry]);
      if (this.errors.length > before) stale = done.slice();
      else done.push(entry);
    }
    if (stale.length > 0) await this.emit('onRunEnd', event, stale);
  }

  /** Synchronous progress hook (called every step); errors disable nothing but are recorded once. */
  progress(event: unknown): void {
    for (const { name, r } of this.reporters) {
      if (!r.onTrainProgress) continue;
      try {
        r.onTrainProgress(event as never);
      } catch (e) {
        const msg = `reporter "${name}" failed in onTrainProgress: ${(e as Error).message}`;
        if (!this.errors.includes(msg)) {
          this.errors.push(msg);
          this.print(`warning: ${msg}`);
        }
      }
    }
  }
}

/** Everything built from a resolved config, shared by `run` and `sample`. */
export interface Built {
  dataset: Dataset;
  schedule: NoiseSchedule;
  denoiser: Denoiser;
  sampler: Sampler;
  metrics: { slot: ResolvedSlot; metric: Metric }[];
  reporters: ReporterSet;
  backend: BackendInfo;
}

/**
 * Instantiates every plugin of a resolved config and runs the checks that need them (steps ≤ T,
 * prediction type vs schedule, metrics vs dataset) — no backend, no data loaded. `validate` stops
 * here; `run`, `sample` and `sweep` go on to {@link buildPlugins}.
 */
export async function checkPlugins(r: ResolvedExperiment, ctx: PluginContext): Promise<Omit<Built, 'reporters' | 'backend'>> {
  checkDatasetMemory(r);
  const dataset = await create<'dataset'>(r.dataset, ctx);
  checkRunMemory(r, dataset.shape);
  const schedule = await create<'schedule'>(r.schedule, ctx);
  const denoiser = await create<'denoiser'>(r.denoiser, ctx);
  const sampler = await create<'sampler'>(r.sampler, ctx);
  const steps = r.sampler.options.steps;
  if (typeof steps === 'number' && steps > schedule.numTrainTimesteps) {
    throw new ConfigError({ path: 'sampler.steps', message: `${steps} sampling steps exceed the schedule's ${schedule.numTrainTimesteps} training timesteps` });
  }
  const metrics = await Promise.all(r.metrics.map(async (slot) => ({ slot, metric: await create<'metric'>(slot, ctx) })));
  checkPredictionFitsSchedule(r, schedule, denoiser.trainable);
  // Before any training: a metric that cannot apply to this dataset is a config error now, not after the run.
  for (const { slot, metric } of metrics) {
    try {
      metric.check?.({ shape: dataset.shape, info: dataset.info });
    } catch (e) {
      throw new ConfigError({ path: slot.path, message: (e as Error).message }, { hint: (e as { hint?: string }).hint });
    }
  }
  return { dataset, schedule, denoiser, sampler, metrics };
}

/** Instantiates every plugin of a resolved config, checks them together and activates the backend. */
export async function buildPlugins(r: ResolvedExperiment, ctx: PluginContext): Promise<Built> {
  const { dataset, schedule, denoiser, sampler, metrics } = await checkPlugins(r, ctx);
  const needsConv = Boolean((denoiser as { needsConvGradients?: boolean }).needsConvGradients);
  const backend = await setupBackend(r.experiment.backend, { convGradients: needsConv && denoiser.trainable });
  return { dataset, schedule, denoiser, sampler, metrics, reporters: new ReporterSet([], ctx.print), backend };
}

/**
 * A trained ε-model cannot define x̂₀ = (xₜ − √(1−ᾱₜ)·ε̂)/√ᾱₜ where ᾱₜ = 0 (zero terminal SNR,
 * Lin et al. 2023 §3.2), so that combination is refused before training; only the exact oracle
 * survives it.
 */
function checkPredictionFitsSchedule(r: ResolvedExperiment, schedule: NoiseSchedule, trainable: boolean): void {
  const last = schedule.alphasCumprod[schedule.numTrainTimesteps - 1];
  if (trainable && r.experiment.training.predictionType === 'epsilon' && last === 0) {
    throw new ConfigError(
      { path: 'training.predictionType', message: 'epsilon prediction cannot be sampled from a schedule with ᾱ_T = 0 (zero terminal SNR): x̂₀ would divide by √ᾱ_T = 0' },
      { hint: 'add training.predictionType=v (as Lin et al. 2023 do) or training.predictionType=sample, or drop schedule.rescaleZeroTerminalSnr.' },
    );
  }
}

/**
 * What env.json records, the same for `run` and `sample`: versions, platform, backend (and why),
 * seed, command line and overrides; `extra` says where the config came from (file or source run).
 */
export function envRecord(
  r: ResolvedExperiment,
  built: Built,
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
export function startWarnings(r: ResolvedExperiment, built: Built, log = new WarningLog(() => {})): { diagnostics: ScheduleDiagnostics; warnings: string[] } {
  const diagnostics = scheduleDiagnostics(built.schedule);
  for (const a of configAdvice(r, built, diagnostics)) log.add(a);
  for (const w of built.dataset.warnings ?? []) log.add(w);
  return { diagnostics, warnings: log.messages };
}

/** Creates the reporters once the run directory exists (they write into it). */
export async function createReporters(r: ResolvedExperiment, ctx: PluginContext): Promise<ReporterSet> {
  const list = [];
  for (const slot of r.reporters) list.push({ name: slot.use, r: await create<'reporter'>(slot, ctx) });
  return new ReporterSet(list, ctx.print);
}

/** Ensures a `summary` reporter runs, since sweeps and `sample` read summary.json. */
export function withSummaryReporter(r: ResolvedExperiment, registry: { get: (k: PluginKind, n: string) => ResolvedSlot['def'] }): ResolvedExperiment {
  const def = registry.get('reporter', 'summary');
  // by identity, not by name: the slot holds the registry's own definition
  if (r.reporters.some((s) => s.def === def)) return r;
  return { ...r, reporters: [...r.reporters, { use: 'summary', def, options: def.options.parse({}) as Record<string, unknown>, path: 'reporters' }] };
}

/** Samples, writes samples.npy/reference.npy, computes metrics with noise floors; shared by run and sample. */
export async function sampleAndEvaluate(args: {
  r: ResolvedExperiment;
  built: Built;
  model: DenoiserModel;
  runDir: string;
  rng: Rng;
  /** Warnings known before sampling: the likely causes a divergence warning names. */
  causes?: Advice[];
}): Promise<{ sampling: Record<string, unknown>; metrics: Record<string, number>; details: Record<string, unknown>; divergence: Divergence | null }> {
  const { r, built, model, runDir, rng } = args;
  const { dataset, schedule, sampler } = built;
  const ev = r.experiment.evaluation;
  const n = ev.samples;
  const predictionType = r.experiment.training.predictionType;
  // The fused kernels when they apply (same draws, same samples up to float rounding), else tfjs.
  const path = chooseSamplingPath({
    model,
    backend: built.backend.name,
    accelerate: r.experiment.training.accelerate,
    sampler,
    schedule,
    predictionType,
    batch: Math.min(n, ev.batchSize ?? n),
  });
  let gen: Awaited<ReturnType<typeof generateSamples>>;
  try {
    gen = await generateSamples({
      model: path.model,
      sampler,
      schedule,
      predictionType,
      shape: dataset.shape,
      n,
      // absent: the sampler's own step count (its `steps` option, else its default)
      steps: path.steps,
      rng: rng.fork('sample'),
      batchSize: ev.batchSize,
      trajectorySnapshots: ev.trajectory,
      loop: path.loop,
    });
  } finally {
    path.dispose();
  }
  const reference = await dataset.reference(n, rng.fork('reference'));
  // The floor is what a perfect generator scores: an i.i.d. draw from the data distribution against the same reference.
  const reference2 = await (dataset.perfectDraw ? dataset.perfectDraw(n, rng.fork('reference-floor')) : dataset.reference(n, rng.fork('reference-floor')));
  const info = dataset.info;
  const shape = [n, ...dataset.shape];
  writeFileAtomic(join(runDir, 'samples.npy'), encodeNpy(toDataSpace(gen.samples, info), shape));
  writeFileAtomic(join(runDir, 'reference.npy'), encodeNpy(toDataSpace(reference, info), shape));
  await built.reporters.emit('onSample', {
    sampler: r.sampler.use,
    samples: toDataSpace(gen.samples, info),
    reference: toDataSpace(reference, info),
    shape: dataset.shape,
    n,
    nfe: gen.nfe,
    seconds: gen.seconds,
    trajectory: gen.trajectory.map((s) => ({ ...s, samples: toDataSpace(s.samples, info) })),
    info,
  });
  // Metrics run in model space (standardised where the dataset standardises), against fresh
  // reference draws; each one's noise floor is the same metric between a perfect generator's draw (Dataset.perfectDraw) and the reference.
  const metrics: Record<string, number> = {};
  const details: Record<string, unknown> = {};
  const measured: { name: string; value: number; floor: number; higherIsBetter: boolean }[] = [];
  for (const { slot, metric } of built.metrics) {
    const ctx = (label: string) => ({ shape: dataset.shape, info, rng: rng.fork(`metric:${slot.use}`).fork(label) });
    const value = await metric.compute(gen.samples, reference, ctx('value'));
    const floor = await metric.compute(reference2, reference, ctx('value'));
    const v = typeof value === 'number' ? { value } : value;
    const f = typeof floor === 'number' ? { value: floor } : floor;
    const key = camel(metric.name);
    metrics[key] = v.value;
    metrics[`${key}NoiseFloor`] = f.value;
    measured.push({ name: key, value: v.value, floor: f.value, higherIsBetter: metric.higherIsBetter });
    for (const [k, d] of Object.entries(v.details ?? {})) {
      details[k] = d;
      if (typeof d !== 'string') metrics[k] = d as unknown as number;
    }
  }
  await built.reporters.emit('onEvaluate', { metrics, details });
  const dim = dataset.shape.reduce((a, b) => a * b, 1);
  const divergence = checkDivergence({ samples: gen.samples, reference, dim, metrics: measured, causes: args.causes ?? [], steps: gen.steps, numTrainTimesteps: schedule.numTrainTimesteps });
  return {
    divergence,
    sampling: {
      sampler: r.sampler.use,
      steps: gen.steps,
      nfe: gen.nfe,
      samples: n,
      seconds: gen.seconds,
      samplesPerSecond: n / gen.seconds,
      path: path.path,
      ...(gen.info ? { samplerInfo: gen.info } : {}),
      ...(path.threads !== undefined ? { threads: path.threads } : {}),
      ...(path.declined !== undefined ? { fusedDeclined: path.declined } : {}),
    },
    metrics,
    details,
  };
}

/** The `summary.json` object a run or a sample writes; one shape, so sweeps aggregate both alike. */
export function buildSummary(a: {
  r: ResolvedExperiment;
  built: Built;
  model: Pick<DenoiserModel, 'parameterCount'>;
  diagnostics: ScheduleDiagnostics;
  training: Record<string, unknown>;
  evald: { sampling: Record<string, unknown>; metrics: Record<string, number>; divergence?: Divergence | null };
  warnings: string[];
  /** The warnings that come with fixes, as data (each fix: overrides the tool accepts). */
  fixes?: Advice[];
  /** The run a sample directory was drawn from. */
  source?: string;
}): Record<string, unknown> {
  const exp = a.r.experiment;
  const s = a.built.schedule;
  const d = a.diagnostics;
  return {
    name: exp.name,
    status: 'complete',
    ...(a.source !== undefined ? { source: a.source } : {}),
    seed: exp.seed,
    backend: a.built.backend.name,
    predictionType: exp.training.predictionType,
    parameterCount: a.model.parameterCount,
    metrics: a.evald.metrics,
    schedule: {
      name: s.name,
      numTrainTimesteps: s.numTrainTimesteps,
      alphaBarT: d.alphaBarT,
      snrMin: d.snrMin,
      snrMax: d.snrMax,
      logSnrMin: d.logSnrMin,
      logSnrMax: d.logSnrMax,
    },
    training: a.training,
    sampling: a.evald.sampling,
    ...(a.evald.divergence ? { divergence: a.evald.divergence } : {}),
    warnings: a.warnings,
    ...(a.fixes && a.fixes.length > 0 ? { fixes: a.fixes } : {}),
    reporterErrors: a.built.reporters.errors,
  };
}

/** `sliced-wasserstein` → `slicedWasserstein`, so summary keys read as `metrics.slicedWasserstein`. */
export function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Runs a validated experiment and returns its directory and summary. */
export async function runExperiment(r: ResolvedExperiment, opts: RunOptions = {}): Promise<RunResult> {
  // Every warning is recorded once and printed once (reporters print through the same log).
  const log = new WarningLog(opts.print ?? ((line: string) => process.stdout.write(`${line}\n`)));
  const print = log.print;
  const cwd = opts.cwd ?? process.cwd();
  const exp = r.experiment;
  // Everything that can fail on bad input (plugins, files, backend, data) happens before the
  // run directory exists, so a bad config leaves nothing behind.
  const baseCtx: PluginContext = { seed: exp.seed, print, interactive: opts.interactive ?? false };
  const built = await buildPlugins(r, baseCtx);
  const { dataset, schedule, denoiser } = built;
  const rng = new Rng(exp.seed);
  const trainingSet: TrainingSet = await dataset.load(rng.fork('data'));
  const resolvedConfig = resolvedConfigObject(r);
  const length = denoiser.trainable ? trainingLength(trainingSet.count, exp.training) : { steps: 0, epochs: 0 };
  const runLength: RunLength = { ...length, perEpoch: batchesPerEpoch(trainingSet.count, exp.training.batchSize), checkpointEvery: exp.training.checkpointEvery };
  const resumeState = opts.resume ? checkResumable(resolvedConfig, opts.out, cwd, runLength) : null;
  const buildCtx = {
    dataShape: dataset.shape,
    schedule,
    predictionType: exp.training.predictionType,
    rng: rng.fork('init'),
    dataset,
    trainingSet,
  };
  // A resumed run's model is built before the run directory is touched, so a checkpoint that does not fit it is refused with the directory as it was.
  const resumedModel = resumeState ? await resumeModel(resumeState, denoiser, buildCtx, exp.training.emaDecay !== undefined, resolve(cwd, opts.out as string)) : null;
  const runDir = prepareRunDir(exp.name, opts.out, opts.force ?? false, cwd, { resume: resumeState !== null, print });
  if (resumeState) rmSync(join(runDir, 'FAILED'), { force: true });
  const ctx: PluginContext = { ...baseCtx, runDir, recordOutput };
  // Any failure from here on — an error, SIGINT or SIGTERM — leaves FAILED with the last checkpoint and the command to continue.
  const recorder = new FailureRecorder(runDir, { configPath: opts.configPath, overrides: opts.overrides, cwd, totalSteps: length.steps, checkpointEvery: exp.training.checkpointEvery });
  if (resumeState?.kind === 'train') recorder.checkpoint = { step: resumeState.state.step, epoch: resumeState.state.epoch, final: false };
  if (resumeState?.kind === 'sample') recorder.checkpoint = { step: length.steps, epoch: length.epochs, final: true };
  const stopHandlingSignals = recorder.handleSignals();
  const logs: EpochLog[] = [];
  try {
    const model = resumedModel ?? (await denoiser.build(buildCtx));
    removeStaleTemps(runDir);
    writeFileAtomic(join(runDir, 'config.yaml'), YAML.stringify(resolvedConfig));
    built.reporters = await createReporters(r, ctx);
    const env = envRecord(r, built, opts, { config: opts.configPath ?? null });
    writeJsonAtomic(join(runDir, 'env.json'), env);

    const { diagnostics, warnings } = startWarnings(r, built, log);
    await built.reporters.emit('onRunStart', {
      runDir,
      name: exp.name,
      config: resolvedConfig,
      env,
      dataShape: dataset.shape,
      schedule,
      diagnostics,
      totalSteps: length.steps,
      epochs: length.epochs,
      parameterCount: model.parameterCount,
      warnings,
    });
    log.flush();

    let training: Record<string, unknown> = { steps: 0, epochs: 0, seconds: 0, stepsPerSecond: 0, finalLoss: null, path: 'none (closed-form denoiser)' };
    let lossHistory: { epoch: number; step: number; loss: number }[] = [];
    const meta = {
      denoiser: { use: r.denoiser.use, ...r.denoiser.options },
      dataset: { use: r.dataset.use, ...r.dataset.options },
      schedule: { use: r.schedule.use, ...r.schedule.options },
      predictionType: exp.training.predictionType,
      dataShape: dataset.shape,
      numTrainTimesteps: schedule.numTrainTimesteps,
    };
    const metricsPath = join(runDir, METRICS_LOG);
    const lossPath = join(runDir, LOSS_LOG);
    recordOutput(metricsPath);
    recordOutput(lossPath);
    if (resumeState?.kind === 'sample') {
      // Training had finished before the run died: its final weights are loaded; only sampling and evaluation run again.
      print(`resuming ${runDir}: training had finished (final checkpoint at step ${length.steps}); sampling and evaluating again from its weights, no training`);
      lossHistory = readLossLog(lossPath);
      const recorded = (resumeState.meta.training as Record<string, unknown> | undefined) ?? { steps: length.steps, epochs: length.epochs };
      training = { ...recorded, resumedFromStep: length.steps };
    } else if (denoiser.trainable) {
      const resumeFrom = resumeState?.kind === 'train' ? resumeState.state : undefined;
      if (resumeFrom) {
        // Epochs after the checkpoint are trained again: cut the logs back so none appears twice.
        truncateEpochLog(metricsPath, resumeFrom.epoch);
        truncateEpochLog(lossPath, resumeFrom.epoch);
        if (existsSync(lossPath)) resumeFrom.lossHistory = readLossLog(lossPath, resumeFrom.epoch);
      }
      const metricsLog = new EpochLog(metricsPath, resumeFrom !== undefined);
      logs.push(metricsLog);
      const lossLog = new EpochLog(lossPath, resumeFrom !== undefined);
      logs.push(lossLog);
      const yieldForSignals = eventLoopYielder();
      const result = await train({
        model,
        trainingSet,
        shape: dataset.shape,
        schedule,
        config: exp.training,
        rng: rng.fork('train'),
        accelerator: exp.training.accelerate ? opts.accelerator : undefined,
        resumeFrom,
        onCheckpoint: async (state) => {
          // The model's variables hold the weights to sample from (EMA when enabled) during this call.
          saveCheckpoint(join(runDir, 'checkpoint'), await model.save(), { ...meta, trainingSteps: state.step, final: false }, encodeTrainState(state));
          recorder.checkpoint = { step: state.step, epoch: state.epoch, final: false };
        },
        backend: built.backend.name,
        onProgress: (e) => built.reporters.progress(e),
        onEpochEnd: async (e) => {
          lossLog.append({ epoch: e.epoch, step: e.step, loss: e.meanLoss });
          if (e.logged) metricsLog.append({ epoch: e.epoch, step: e.step, loss: e.meanLoss, lr: e.learningRate, seconds: +e.elapsedSeconds.toFixed(3) });
          await built.reporters.emit('onEpochEnd', e);
          await yieldForSignals();
        },
      });
      for (const epochLog of logs.splice(0)) epochLog.close();
      lossHistory = result.lossHistory;
      training = {
        steps: result.steps,
        epochs: result.epochs,
        seconds: result.seconds,
        stepsPerSecond: result.stepsPerSecond,
        finalLoss: result.finalLoss,
        path: result.path,
        ...(result.resumedFromStep > 0 ? { resumedFromStep: result.resumedFromStep } : {}),
        ...(result.acceleratorDeclined ? { acceleratorDeclined: result.acceleratorDeclined } : {}),
      };
    }
    if (resumeState?.kind !== 'sample') {
      // The training record rides along, so a run that dies after this point resumes with a complete summary.
      saveCheckpoint(join(runDir, 'checkpoint'), await model.save(), { ...meta, trainingSteps: training.steps, final: true, training });
      recorder.checkpoint = { step: Number(training.steps), epoch: length.epochs, final: true };
    }

    const evald = await sampleAndEvaluate({ r, built, model, runDir, rng, causes: [...log.items] });
    // Sampling never yields to the event loop: a signal that came meanwhile is taken here.
    await takePendingSignals();
    // Read before dispose: a disposed model's variables are gone and it would count 0 parameters.
    const counted = { parameterCount: model.parameterCount };
    model.dispose();
    for (const w of dataset.warnings ?? []) log.add(w);
    if (evald.divergence) log.add({ message: evald.divergence.message, fixes: evald.divergence.fixes });
    log.flush();
    const summary = buildSummary({ r, built, model: counted, diagnostics, training, evald, warnings: log.messages, fixes: log.withFixes });
    await built.reporters.emitRunEnd({ runDir, summary, lossHistory });
    if (!existsSync(join(runDir, 'summary.json'))) {
      throw new DiffusionLabError(`the run finished but summary.json was not written (${built.reporters.errors.join('; ')})`, { code: 'REPORTER_FAILED' });
    }
    // A signal that came after that is taken now, before the handlers go: the run is complete by then.
    recorder.finished = true;
    await takePendingSignals();
    return { runDir, summary };
  } catch (e) {
    for (const epochLog of logs) epochLog.close();
    const err = userError(e);
    if (recorder.record(failureReason(err)) === null) print(`warning: could not write ${join(runDir, 'FAILED')}`);
    throw err;
  } finally {
    stopHandlingSignals();
    closeOutputDir(runDir);
  }
}
