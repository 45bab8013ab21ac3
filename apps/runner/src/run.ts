/**
 * One experiment end to end: plugins → data → training → checkpoint → sampling → evaluation →
 * reporters. Everything is validated before the run directory is created; a failure after that
 * leaves a `FAILED` marker and keeps the last checkpoint.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  batchesPerEpoch,
  type Advice,
  type ClassLabels,
  type DatasetInfo,
  type DenoiserModel,
  encodeNpy,
  type NoiseSchedule,
  generateSamples,
  nullClass,
  requestedLabels,
  type PluginContext,
  type PluginKind,
  Rng,
  ConfigError,
  DiffusionLabError,
  type ScheduleDiagnostics,
  type TrainAccelerator,
  type TrainingSet,
  type TrainState,
  checkGuideSnapshotStep,
  train,
  trainingLength,
} from '@diffusionlab/core';
import YAML from 'yaml';
import { type ResolvedExperiment, type ResolvedSlot, resolvedConfigObject } from './config.js';
import { diffKeys } from './config-diff.js';
import { EpochLog, LOSS_LOG, METRICS_LOG, readLossLog, truncateEpochLog } from './epoch-log.js';
import { activateBackend, type Built, checkConditionalModel, denoiserBuildContext, instantiatePlugins } from './experiment.js';
import { eventLoopYielder, FailureRecorder, failureReason, takePendingSignals } from './failure.js';
import { encodeTrainState, GUIDE_CHECKPOINT, saveCheckpoint, writeFileAtomic } from './files.js';
import { loadGuide } from './guide.js';
import { userError } from './io-errors.js';
import { removeStaleTemps } from './litter.js';
import { planResume, type ResumePlan, type RunLength, resumeModel } from './resume.js';
import { closeOutputDir, recordOutput } from './run-dir.js';
import { announceRun, prepareRunDir } from './run-start.js';
import { checkDivergence, type Divergence } from './divergence.js';
import { savedConfigWithCurrentDefaults } from './saved-config.js';
import { chooseSamplingPath } from './sampling-path.js';
import { WarningLog } from './warnings.js';

export { activateBackend, type BackendProbe, type Built, checkSampler, denoiserBuildContext, instantiatePlugins, type Plugins, probeFusedTraining } from './experiment.js';
export { ReporterSet } from './reporter-set.js';
export { type AnnouncedRun, announceRun, createReporters, envRecord, packageVersions, prepareRunDir, RUN_MARKERS, type RunHeader, startWarnings } from './run-start.js';
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

/**
 * Checks that `out` holds an unfinished run of this very config with a resumable checkpoint, and
 * says how it resumes ({@link planResume}).
 */
export function checkResumable(resolvedConfig: Record<string, unknown>, out: string | undefined, cwd: string, length: RunLength, r?: ResolvedExperiment): ResumePlan {
  if (!out) throw new ConfigError({ path: '--resume', message: 'needs --out DIR: the run directory to continue' });
  const dir = resolve(cwd, out);
  const cfgPath = join(dir, 'config.yaml');
  if (!existsSync(cfgPath)) throw new ConfigError({ path: '--out', message: `${dir} is not a run directory (no config.yaml), so there is nothing to resume` });
  const saved = YAML.parse(readFileSync(cfgPath, 'utf8'));
  // Read through today's schemas when the plugins are known, so a key a newer version added is not a difference.
  const diffs = diffKeys(r ? savedConfigWithCurrentDefaults(saved, r) : saved, resolvedConfig);
  if (diffs.length > 0) {
    throw new ConfigError({ path: diffs[0], message: `differs from the run being resumed (${diffs.join(', ')}); resume with the same config and overrides` });
  }
  if (existsSync(join(dir, 'summary.json'))) throw new ConfigError({ path: '--resume', message: `${dir} already finished (summary.json exists)` });
  // A run killed mid-write left temp folders (and maybe a checkpoint swap half done): tidy them first.
  removeStaleTemps(dir);
  removeStaleTemps(join(dir, 'checkpoint'));
  return planResume(dir, length);
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
  /** The autoguidance guide ({@link loadGuide}), when `sampler.autoguidance` asks for one; the caller disposes it. */
  guide?: DenoiserModel;
  runDir: string;
  rng: Rng;
  /** Warnings known before sampling: the likely causes a divergence warning names. */
  causes?: Advice[];
}): Promise<{ sampling: Record<string, unknown>; metrics: Record<string, number>; details: Record<string, unknown>; divergence: Divergence | null }> {
  const { r, built, model, guide, runDir, rng } = args;
  const { dataset, schedule, sampler } = built;
  const ev = r.experiment.evaluation;
  const n = ev.samples;
  const predictionType = r.experiment.training.predictionType;
  // The fused kernels when they apply (same draws, same samples up to float rounding), else tfjs.
  const pathFor = (m: DenoiserModel) =>
    chooseSamplingPath({
      model: m,
      backend: built.backend.name,
      accelerate: r.experiment.training.accelerate,
      sampler,
      schedule,
      predictionType,
      batch: Math.min(n, ev.batchSize ?? n),
      guided: guide !== undefined,
    });
  const path = pathFor(model);
  // The guide runs on the same path as the model (its fused forward pass when the model has one).
  const guidePath = guide ? pathFor(guide) : undefined;
  const autoguide = guidePath && r.autoguidance !== undefined ? { model: guidePath.model, weight: r.autoguidance } : undefined;
  // A conditional model draws the classes evaluation.classes asks for, guided with sampler.guidance (default 1: plain conditional).
  const names = model.labelNames;
  const condition = names ? { labels: requestedLabels(ev.classes ?? 'all', names, n), nullIndex: nullClass(names), guidance: r.guidance ?? 1 } : undefined;
  let gen: Awaited<ReturnType<typeof generateSamples>>;
  try {
    gen = await generateSamples({
      model: path.model,
      sampler,
      schedule,
      predictionType,
      objective: r.experiment.training.objective,
      shape: dataset.shape,
      n,
      // absent: the sampler's own step count (its `steps` option, else its default)
      steps: path.steps,
      rng: rng.fork('sample'),
      batchSize: ev.batchSize,
      trajectorySnapshots: ev.trajectory,
      loop: path.loop,
      ...(condition ? { condition } : {}),
      ...(autoguide ? { guide: autoguide } : {}),
    });
  } finally {
    path.dispose();
    guidePath?.dispose();
  }
  // A conditional run draws the same reference and floor rows with their classes (labels consume no random numbers).
  const labeled = condition !== undefined && dataset.labeledReference !== undefined;
  const ref = labeled ? await dataset.labeledReference?.(n, rng.fork('reference')) : undefined;
  const reference = ref ? ref.data : await dataset.reference(n, rng.fork('reference'));
  // The floor is what a perfect generator scores: an i.i.d. draw from the data distribution against the same reference.
  const floorDraw = labeled ? await (dataset.labeledPerfectDraw ?? dataset.labeledReference)?.call(dataset, n, rng.fork('reference-floor')) : undefined;
  const reference2 = floorDraw
    ? floorDraw.data
    : await (dataset.perfectDraw ? dataset.perfectDraw(n, rng.fork('reference-floor')) : dataset.reference(n, rng.fork('reference-floor')));
  // Requested (or, for the floor, true) classes beside the reference's true ones, for metrics and figures that group by class.
  const classLabels = (samples: Int32Array | undefined): ClassLabels | undefined => (samples && names && ref ? { samples, reference: ref.labels, names } : undefined);
  const sampleLabels = classLabels(condition?.labels);
  const info = dataset.info;
  const shape = [n, ...dataset.shape];
  writeFileAtomic(join(runDir, 'samples.npy'), encodeNpy(toDataSpace(gen.samples, info), shape));
  writeFileAtomic(join(runDir, 'reference.npy'), encodeNpy(toDataSpace(reference, info), shape));
  // The class each sample was drawn for (row i of samples.npy), as float32 class indices.
  if (condition) writeFileAtomic(join(runDir, 'samples-labels.npy'), encodeNpy(Float32Array.from(condition.labels), [n]));
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
    ...(sampleLabels ? { labels: sampleLabels } : {}),
  });
  // Metrics run in model space (standardised where the dataset standardises), against fresh
  // reference draws; each one's noise floor is the same metric between a perfect generator's draw (Dataset.perfectDraw) and the reference.
  const metrics: Record<string, number> = {};
  const details: Record<string, unknown> = {};
  const measured: { name: string; value: number; floor: number; higherIsBetter: boolean }[] = [];
  for (const { slot, metric } of built.metrics) {
    const ctx = (label: string, labels?: ClassLabels) => ({
      shape: dataset.shape,
      info,
      rng: rng.fork(`metric:${slot.use}`).fork(label),
      ...(labels ? { labels } : {}),
    });
    const value = await metric.compute(gen.samples, reference, ctx('value', sampleLabels));
    const floor = await metric.compute(reference2, reference, ctx('value', classLabels(floorDraw?.labels)));
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
  const divergence = checkDivergence({
    samples: gen.samples,
    reference,
    dim,
    metrics: measured,
    causes: args.causes ?? [],
    steps: gen.steps,
    numTrainTimesteps: schedule.numTrainTimesteps,
  });
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
      ...(condition && names ? { guidance: condition.guidance, classes: [...new Set(condition.labels)].map((k) => names[k]) } : {}),
      ...(autoguide ? { autoguidance: { weight: autoguide.weight, guideStep: r.experiment.training.guideSnapshotStep } } : {}),
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
    objective: exp.training.objective,
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

/**
 * Ends a run or sample directory the same way: the warnings sampling raised (dataset notes, a
 * divergence) join the log and are printed, then the summary is built and `onRunEnd` sent with it.
 */
export async function finishRun(
  a: Omit<Parameters<typeof buildSummary>[0], 'warnings' | 'fixes'> & { log: WarningLog; runDir: string; lossHistory: { epoch: number; step: number; loss: number }[] },
): Promise<Record<string, unknown>> {
  const { built, evald, log } = a;
  for (const w of built.dataset.warnings ?? []) log.add(w);
  if (evald.divergence) log.add({ message: evald.divergence.message, fixes: evald.divergence.fixes });
  log.flush();
  const summary = buildSummary({ ...a, warnings: log.messages, fixes: log.withFixes });
  await built.reporters.emitRunEnd({ runDir: a.runDir, summary, lossHistory: a.lossHistory });
  return summary;
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
  const plugins = await instantiatePlugins(r, baseCtx);
  const { dataset, schedule, denoiser } = plugins;
  const rng = new Rng(exp.seed);
  // Data first (typed arrays, no backend): `auto` may build a throwaway model from it to choose the backend.
  const trainingSet: TrainingSet = await dataset.load(rng.fork('data'));
  const backend = await activateBackend(r, plugins, { accelerator: opts.accelerator, trainingSet, rng });
  const resolvedConfig = resolvedConfigObject(r);
  const length = denoiser.trainable ? trainingLength(trainingSet.count, exp.training) : { steps: 0, epochs: 0 };
  if (denoiser.trainable) checkGuideSnapshotStep(exp.training, length.steps);
  else if (exp.training.guideSnapshotStep !== undefined) {
    throw new ConfigError(
      { path: 'training.guideSnapshotStep', message: `the ${r.denoiser.use} denoiser is not trained, so there is no earlier copy of it to save as a guide` },
      { hint: 'drop training.guideSnapshotStep and sampler.autoguidance, or use a trainable denoiser' },
    );
  }
  const runLength: RunLength = { ...length, perEpoch: batchesPerEpoch(trainingSet.count, exp.training.batchSize), checkpointEvery: exp.training.checkpointEvery };
  const resumeState = opts.resume ? checkResumable(resolvedConfig, opts.out, cwd, runLength, r) : null;
  const buildCtx = denoiserBuildContext(r, plugins, rng, trainingSet);
  // A resumed run's model is built before the run directory is touched, so a checkpoint that does not fit it is refused with the directory as it was.
  const resumedModel = resumeState ? await resumeModel(resumeState, denoiser, buildCtx, exp.training.emaDecay !== undefined, resolve(cwd, opts.out as string)) : null;
  const runDir = prepareRunDir(exp.name, opts.out, opts.force ?? false, cwd, { resume: resumeState !== null, print });
  if (resumeState) rmSync(join(runDir, 'FAILED'), { force: true });
  // Any failure from here on — an error, SIGINT or SIGTERM — leaves FAILED with the last checkpoint and the command to continue.
  const recorder = new FailureRecorder(runDir, {
    configPath: opts.configPath,
    overrides: opts.overrides,
    cwd,
    totalSteps: length.steps,
    checkpointEvery: exp.training.checkpointEvery,
  });
  if (resumeState?.kind === 'train') recorder.checkpoint = { step: resumeState.state.step, epoch: resumeState.state.epoch, final: false };
  if (resumeState?.kind === 'sample') recorder.checkpoint = { step: length.steps, epoch: length.epochs, final: true };
  const stopHandlingSignals = recorder.handleSignals();
  const logs: EpochLog[] = [];
  try {
    const model = resumedModel ?? (await denoiser.build(buildCtx));
    checkConditionalModel(r, model);
    removeStaleTemps(runDir);
    const { built, diagnostics } = await announceRun({
      r,
      plugins,
      backend,
      runDir,
      ctx: baseCtx,
      log,
      opts,
      source: { config: opts.configPath ?? null },
      header: { totalSteps: length.steps, epochs: length.epochs, parameterCount: model.parameterCount },
    });

    let training: Record<string, unknown> = { steps: 0, epochs: 0, seconds: 0, stepsPerSecond: 0, finalLoss: null, path: 'none (closed-form denoiser)' };
    let lossHistory: { epoch: number; step: number; loss: number }[] = [];
    const meta = {
      denoiser: { use: r.denoiser.use, ...r.denoiser.options },
      dataset: { use: r.dataset.use, ...r.dataset.options },
      schedule: { use: r.schedule.use, ...r.schedule.options },
      predictionType: exp.training.predictionType,
      objective: exp.training.objective,
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
      ({ training, lossHistory } = await trainWithLogs({ exp, opts, built, model, trainingSet, shape: dataset.shape, schedule, rng, runDir, meta, recorder, resumeFrom, logs }));
    }
    if (resumeState?.kind !== 'sample') {
      // The training record rides along, so a run that dies after this point resumes with a complete summary.
      saveCheckpoint(join(runDir, 'checkpoint'), await model.save(), { ...meta, trainingSteps: training.steps, final: true, training });
      recorder.checkpoint = { step: Number(training.steps), epoch: length.epochs, final: true };
    }

    const guide = await loadGuide(r, runDir, denoiser, buildCtx);
    let evald: Awaited<ReturnType<typeof sampleAndEvaluate>>;
    try {
      evald = await sampleAndEvaluate({ r, built, model, guide, runDir, rng, causes: [...log.items] });
    } finally {
      guide?.dispose();
    }
    // Sampling never yields to the event loop: a signal that came meanwhile is taken here.
    await takePendingSignals();
    // Read before dispose: a disposed model's variables are gone and it would count 0 parameters.
    const counted = { parameterCount: model.parameterCount };
    model.dispose();
    const summary = await finishRun({ r, built, model: counted, diagnostics, training, evald, log, runDir, lossHistory });
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

/** What {@link trainWithLogs} needs: the run's pieces, its failure recorder, and the list of open epoch logs the caller closes on failure. */
interface TrainWithLogsArgs {
  exp: ResolvedExperiment['experiment'];
  opts: RunOptions;
  built: Built;
  model: DenoiserModel;
  trainingSet: TrainingSet;
  shape: readonly number[];
  schedule: NoiseSchedule;
  rng: Rng;
  runDir: string;
  meta: Record<string, unknown>;
  recorder: FailureRecorder;
  resumeFrom: TrainState | undefined;
  logs: EpochLog[];
}

/**
 * Trains with the run's epoch logs (cut back to the checkpoint on resume, so no epoch appears
 * twice) and checkpoints, yielding between epochs so SIGINT/SIGTERM land between steps; returns
 * the summary's training record and the loss history.
 */
async function trainWithLogs(a: TrainWithLogsArgs): Promise<{ training: Record<string, unknown>; lossHistory: { epoch: number; step: number; loss: number }[] }> {
  const { exp, opts, built, model, runDir, meta, recorder, resumeFrom, logs } = a;
  const metricsPath = join(runDir, METRICS_LOG);
  const lossPath = join(runDir, LOSS_LOG);
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
    trainingSet: a.trainingSet,
    shape: a.shape,
    schedule: a.schedule,
    config: exp.training,
    ...(exp.conditioning ? { conditioning: exp.conditioning } : {}),
    rng: a.rng.fork('train'),
    accelerator: exp.training.accelerate ? opts.accelerator : undefined,
    resumeFrom,
    onCheckpoint: async (state) => {
      // The model's variables hold the weights to sample from (EMA when enabled) during this call.
      saveCheckpoint(join(runDir, 'checkpoint'), await model.save(), { ...meta, trainingSteps: state.step, final: false }, encodeTrainState(state));
      recorder.checkpoint = { step: state.step, epoch: state.epoch, final: false };
    },
    onGuideSnapshot: async (step) => {
      // The autoguidance guide: the weights to sample from (EMA when enabled) as they are at this step.
      saveCheckpoint(join(runDir, GUIDE_CHECKPOINT), await model.save(), { ...meta, trainingSteps: step, final: true, guide: true });
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
  const training = {
    steps: result.steps,
    epochs: result.epochs,
    seconds: result.seconds,
    stepsPerSecond: result.stepsPerSecond,
    finalLoss: result.finalLoss,
    path: result.path,
    ...(result.resumedFromStep > 0 ? { resumedFromStep: result.resumedFromStep } : {}),
    ...(result.acceleratorDeclined ? { acceleratorDeclined: result.acceleratorDeclined } : {}),
    ...(result.pathNotes ? { pathNotes: result.pathNotes } : {}),
  };
  return { training, lossHistory: result.lossHistory };
}
