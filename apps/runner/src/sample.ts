/**
 * `diffusionlab sample`: draws new samples from a finished run's checkpoint with another sampler,
 * step count, spacing, seed or sample count — no retraining. The run's own files are never touched:
 * everything goes into a fresh sample directory (default `<run>/samples/<sampler>-<steps>-<time>`).
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConfigError, type DenoiserModel, DiffusionLabError, type PluginContext, type PluginRegistry, Rng, type TrainAccelerator } from '@diffusionlab/core';
import { applyOverrides, parseConfigText, parseOverrides, type ResolvedExperiment, readConfigFile, resolvedConfigObject, resolveExperiment } from './config.js';
import { firstDifference } from './config-diff.js';
import { activateBackend, checkConditionalModel, denoiserBuildContext, instantiatePlugins } from './experiment.js';
import { CHECKPOINT_META, loadCheckpoint, writeFileAtomic } from './files.js';
import { loadGuide } from './guide.js';
import { unpackRunFile } from './packed-run.js';
import { closeOutputDir } from './run-dir.js';
import { builtinRegistry, loadPluginPackages } from './plugins.js';
import { announceRun, prepareRunDir, RUN_MARKERS } from './run-start.js';
import { timestamp } from './timestamp.js';
import { plannedSteps, WarningLog } from './warnings.js';
import { finishRun, sampleAndEvaluate, withSummaryReporter } from './run.js';

export { firstDifference } from './config-diff.js';

type Json = Record<string, unknown>;

/**
 * Config sections that define the trained model. `sample` refuses to change them because the
 * checkpoint was fitted to exactly these: another dataset, schedule, architecture or prediction type
 * would silently evaluate a model that does not exist. (`training.*` is included because the
 * recorded config must describe how the reused checkpoint was really trained.)
 */
export const MODEL_SECTIONS = ['dataset', 'schedule', 'denoiser', 'training', 'conditioning'] as const;

/** Reporters that only have something to show with training data (loss curves, epoch logs); `sample` leaves them out. */
export const TRAINING_ONLY_REPORTERS = ['loss', 'jsonl', 'csv'];

/** How the CLI (or a sweep) asks for a sample directory. */
export interface SampleOptions {
  /** Sample directory; default `<run>/samples/<sampler>-<steps>-<timestamp>`. */
  out?: string;
  /** Replace a directory that already holds a run or a sample directory. */
  force?: boolean;
  print?: (line: string) => void;
  interactive?: boolean;
  /** Recorded in env.json. */
  argv?: readonly string[];
  cwd?: string;
  /**
   * Load the plugin code the run's config names (`plugins:`). Off by default: a run folder may come
   * from someone else, and `sample` reads only data from it unless told to trust it.
   */
  trust?: boolean;
  /** Plugin packages or paths (resolved from `cwd`) to load instead of the run's `plugins:`; the user's own choice, so always loaded. */
  plugins?: readonly string[];
  /**
   * The training accelerator the run was given: nothing trains here, but `backend: auto` asks it
   * whether it takes the model, so `sample` picks the backend `run` picked.
   */
  accelerator?: TrainAccelerator;
}

/** What `sample` returns: the new directory and its summary (same shape as a run's, plus `source`). */
export interface SampleResult {
  sampleDir: string;
  summary: Record<string, unknown>;
}

/** A run directory that `sample` can reuse, with everything read from it. */
export interface RunDirectory {
  dir: string;
  /** The run's resolved config (config.yaml), every default filled in. */
  config: Json;
  /** The run's env.json, when present (its `config` path tells where relative plugin specs live). */
  env: Json | null;
  /** The run's summary.json, when the run finished. */
  summary: Json | null;
}

/** Reads a run directory; a folder that is not one is a clear error that says what is missing. */
export function readRunDirectory(runDir: string, cwd = process.cwd()): RunDirectory {
  const dir = resolve(cwd, runDir);
  const hint = 'pass a directory written by `diffusionlab run` (it holds config.yaml and checkpoint/)';
  if (!existsSync(dir)) throw new DiffusionLabError(`run directory not found: ${runDir}`, { code: 'NOT_A_RUN', hint });
  if (!statSync(dir).isDirectory()) throw new DiffusionLabError(`${runDir} is a file, not a run directory`, { code: 'NOT_A_RUN', hint });
  const missing = ['config.yaml', join('checkpoint', 'model.json'), join('checkpoint', 'weights.bin'), join('checkpoint', CHECKPOINT_META)].filter(
    (f) => !existsSync(join(dir, f)),
  );
  if (missing.length > 0) {
    throw new DiffusionLabError(`${runDir} is not a run directory with a checkpoint: missing ${missing.join(', ')}`, { code: 'NOT_A_RUN', hint });
  }
  const readJson = (f: string): Json | null => {
    try {
      return JSON.parse(readFileSync(join(dir, f), 'utf8')) as Json;
    } catch {
      return null;
    }
  };
  return { dir, config: readRunConfig(join(dir, 'config.yaml')), env: readJson('env.json'), summary: readJson('summary.json') };
}

/**
 * Reads a run's config.yaml as data only. Runs write their config resolved, without `extends:`; a
 * config.yaml that has one was not written by `diffusionlab run` and is refused, since following it
 * could read other files or execute a TypeScript config.
 */
function readRunConfig(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError({ path: '', message: `cannot read ${file}: ${(e as Error).message}` });
  }
  if ('extends' in parseConfigText(text, file)) {
    throw new ConfigError(
      {
        path: 'extends',
        message: `${file} names a base config to extend; a run directory's config.yaml is self-contained, and \`sample\` never loads other configs from a run directory`,
      },
      { hint: 'sample a directory written by `diffusionlab run`, or run the config yourself with `diffusionlab run`' },
    );
  }
  return readConfigFile(file);
}

/**
 * Refuses a config whose model-defining sections differ from the run's: the error names the first
 * differing key, both values and why.
 */
export function assertSameModel(runConfig: Json, next: Json): void {
  for (const section of MODEL_SECTIONS) {
    const key = firstDifference(runConfig[section], next[section], section);
    if (!key) continue;
    const get = (o: Json) => key.split('.').reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Json)[k] : undefined), o);
    const what = section === 'training' ? 'how the checkpoint was trained' : `the trained model's ${section}`;
    throw new ConfigError(
      {
        path: key,
        message: `changes ${what} (run: ${JSON.stringify(get(runConfig)) ?? 'unset'}, requested: ${JSON.stringify(get(next)) ?? 'unset'}); \`sample\` reuses the checkpoint as trained and can only change sampler.*, evaluation.*, seed, backend and reporters`,
      },
      { hint: 'to change the model, train a new run: diffusionlab run <config> key=value' },
    );
  }
}

const isInside = (child: string, parent: string) => {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

/** True when `dir` is a sample directory (its summary.json names a `source` run). */
function isSampleDir(dir: string): boolean {
  try {
    return typeof JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).source === 'string';
  } catch {
    return false;
  }
}

/**
 * Checks that `out` cannot overwrite the run's own outputs: not the run directory, not a folder
 * holding it, and inside it only under `samples/`, a new folder, or an earlier sample directory.
 */
export function assertOutsideTrainingOutputs(out: string, runDir: string): void {
  const refuse = (why: string) => {
    throw new ConfigError(
      { path: '--out', message: `${out} ${why}; \`sample\` never touches a run's training outputs` },
      { hint: `omit --out to write under ${join(runDir, 'samples')}` },
    );
  };
  if (isInside(runDir, out)) refuse(relative(out, runDir) === '' ? 'is the run directory itself' : 'contains the run directory');
  if (isInside(out, runDir)) {
    const top = relative(runDir, out).split(sep)[0];
    const topDir = join(runDir, top);
    if (top !== 'samples' && existsSync(topDir) && !isSampleDir(topDir)) refuse(`is inside the run's own ${top}`);
  }
}

/** Validates `raw` (the run's config with changes) against the run's checkpoint and registry. */
async function resolveForRun(
  run: RunDirectory,
  rawIn: Json,
  cwd: string,
  trust: Pick<SampleOptions, 'trust' | 'plugins'>,
): Promise<{ r: ResolvedExperiment; registry: PluginRegistry }> {
  const registry = builtinRegistry();
  let raw = rawIn;
  const runSpecs = Array.isArray(raw.plugins) ? (raw.plugins as unknown[]).filter((s): s is string => typeof s === 'string') : [];
  if (trust.plugins && trust.plugins.length > 0) {
    // The user's own plugins, from the working directory; recorded with absolute paths.
    const own = trust.plugins.map((s) => (s.startsWith('.') ? resolve(cwd, s) : s));
    await loadPluginPackages(registry, own, [cwd]);
    raw = { ...raw, plugins: own };
  } else if (runSpecs.length > 0 && !trust.trust) {
    throw new ConfigError(
      {
        path: 'plugins',
        message: `the config of ${run.dir} names plugin code (${runSpecs.join(', ')}); \`sample\` reads only data from a run directory and does not run code it names unless you trust it`,
      },
      {
        hint: 'pass --trust to load those plugins as the run names them (only for run folders you trust), or --plugin <package-or-path> (repeatable) to load your own copy from the working directory',
      },
    );
  } else {
    // Relative plugin specs were written relative to the run's original config file.
    const dirs = [typeof run.env?.config === 'string' ? dirname(run.env.config) : null, run.dir, cwd].filter((d): d is string => d !== null);
    await loadPluginPackages(registry, runSpecs, dirs);
  }
  const r = resolveExperiment(raw, registry, join(run.dir, 'config.yaml'));
  const runResolved = resolveExperiment(run.config, registry, join(run.dir, 'config.yaml'));
  assertSameModel(resolvedConfigObject(runResolved), resolvedConfigObject(r));
  return { r, registry };
}

/** `diffusionlab sample <run-dir> [key=value …]`: parses the overrides and samples. */
export async function sampleRun(runDir: string, overrideArgs: readonly string[] = [], opts: SampleOptions = {}): Promise<SampleResult> {
  const cwd = opts.cwd ?? process.cwd();
  // A packed run (the playground's checkpoint download) is a file: unpacked beside itself, then sampled as a folder.
  const isFile = runDir.toLowerCase().endsWith('.json') && existsSync(resolve(cwd, runDir)) && statSync(resolve(cwd, runDir)).isFile();
  const dir = isFile ? unpackRunFile(runDir, cwd, opts.print ?? ((line: string) => process.stdout.write(`${line}\n`))) : runDir;
  const run = readRunDirectory(dir, cwd);
  const raw = applyOverrides(run.config, parseOverrides(overrideArgs, false));
  return await sampleFromRun(run, raw, { ...opts, overrides: overrideArgs, ...(isFile ? { packedFrom: runDir } : {}) });
}

/**
 * Samples from a run's checkpoint with the given config (the run's config with sampler, evaluation,
 * seed, backend or reporter changes). Everything that can fail on bad input — validation, plugins,
 * the checkpoint, data — happens before the sample directory is created.
 */
export async function sampleFromRun(
  run: RunDirectory,
  raw: Json,
  opts: SampleOptions & {
    overrides?: readonly string[];
    /** The packed run file (`NAME-run.json`) `run` was unpacked from: it has no summary.json by design, so its checkpoint's training record stands in. */
    packedFrom?: string;
  } = {},
): Promise<SampleResult> {
  // Every warning is recorded once and printed once (reporters print through the same log).
  const changesModel = (o: string) => MODEL_SECTIONS.some((s) => o.startsWith(`${s}.`) || o.startsWith(`${s}=`));
  const log = new WarningLog(opts.print ?? ((line: string) => process.stdout.write(`${line}\n`)), (fix) => !fix.some(changesModel));
  const print = log.print;
  const cwd = opts.cwd ?? process.cwd();
  const resolvedAll = await resolveForRun(run, raw, cwd, opts);
  const withSummary = withSummaryReporter(resolvedAll.r, resolvedAll.registry);
  const r: ResolvedExperiment = { ...withSummary, reporters: withSummary.reporters.filter((s) => !TRAINING_ONLY_REPORTERS.includes(s.use)) };
  const exp = r.experiment;
  const baseCtx: PluginContext = { seed: exp.seed, print, interactive: opts.interactive ?? false };
  const plugins = await instantiatePlugins(r, baseCtx);
  const { dataset, schedule, denoiser } = plugins;
  // Same labels as `run`, so sampling a run with its own settings reproduces its samples exactly;
  // the data comes before the backend, as in `run`, so `auto` chooses the same backend the run did.
  const rng = new Rng(exp.seed);
  const trainingSet = await dataset.load(rng.fork('data'));
  const backend = await activateBackend(r, plugins, { accelerator: opts.accelerator, trainingSet, rng });
  const { artifacts, meta } = loadCheckpoint(join(run.dir, 'checkpoint'));
  if (meta.numTrainTimesteps !== undefined && meta.numTrainTimesteps !== schedule.numTrainTimesteps) {
    throw new ConfigError({ path: 'schedule', message: `the checkpoint was trained with ${meta.numTrainTimesteps} timesteps but the schedule has ${schedule.numTrainTimesteps}` });
  }
  if (Array.isArray(meta.dataShape) && JSON.stringify(meta.dataShape) !== JSON.stringify(dataset.shape)) {
    throw new ConfigError({ path: 'dataset', message: `the checkpoint was trained on data of shape [${meta.dataShape}] but the dataset gives [${dataset.shape}]` });
  }
  const buildCtx = denoiserBuildContext(r, plugins, rng, trainingSet);
  const model = await denoiser.load(artifacts, buildCtx);
  let guide: DenoiserModel | undefined;
  try {
    checkConditionalModel(r, model);
    guide = await loadGuide(r, run.dir, denoiser, buildCtx);
  } catch (e) {
    model.dispose();
    throw e;
  }

  let sampleDir: string;
  let created = false;
  try {
    // Named after the steps that will run (DDPM's default is T, known only from the schedule), as core's sampling loop picks them.
    const steps = plannedSteps(plugins.sampler, schedule);
    let out = opts.out ? resolve(cwd, opts.out) : join(run.dir, 'samples', `${r.sampler.use}-${steps}-${timestamp()}`);
    if (opts.out) assertOutsideTrainingOutputs(out, run.dir);
    else for (let i = 2; existsSync(out); i++) out = join(run.dir, 'samples', `${r.sampler.use}-${steps}-${timestamp()}-${i}`);
    created = !existsSync(out);
    sampleDir = prepareRunDir(exp.name, out, opts.force ?? false, cwd, { print });
  } catch (e) {
    model.dispose();
    guide?.dispose();
    throw e;
  }

  try {
    // A packed run (the playground's download) has no summary.json: its checkpoint's metadata records the training.
    const packedTraining = opts.packedFrom && meta.training && typeof meta.training === 'object' ? (meta.training as Json) : undefined;
    const runTraining = (run.summary?.training as Json | undefined) ?? packedTraining ?? {};
    const { built, diagnostics } = await announceRun({
      r,
      plugins,
      backend,
      runDir: sampleDir,
      ctx: baseCtx,
      log,
      opts,
      source: { source: run.dir },
      // The header describes the reused model; nothing is trained here.
      header: { totalSteps: Number(runTraining.steps ?? meta.trainingSteps ?? 0), epochs: Number(runTraining.epochs ?? 0), parameterCount: model.parameterCount },
    });
    print(`Sampling from the checkpoint of ${run.dir} — no retraining`);
    if (!run.summary && opts.packedFrom) {
      const where = typeof packedTraining?.trainedIn === 'string' ? ` in the ${packedTraining.trainedIn}` : '';
      print(`${opts.packedFrom}: a packed run, trained ${meta.trainingSteps ?? '?'} steps${where}; packed runs carry no summary.json, so its training record is the checkpoint's`);
    } else if (!run.summary) print(`warning: ${run.dir} has no summary.json (the run did not finish); sampling its last checkpoint, saved at step ${meta.trainingSteps ?? '?'}`);
    const evald = await sampleAndEvaluate({ r, built, model, guide, runDir: sampleDir, rng, causes: [...log.items] });
    const training = (run.summary?.training as Json | undefined) ?? packedTraining ?? { steps: meta.trainingSteps ?? null };
    const summary = await finishRun({ r, built, model, diagnostics, training, evald, log, runDir: sampleDir, lossHistory: [], source: run.dir });
    return { sampleDir, summary };
  } catch (e) {
    // Nothing half-written: a folder this call created goes away; an existing one gets a FAILED marker.
    if (created) rmSync(sampleDir, { recursive: true, force: true });
    else {
      try {
        writeFileAtomic(join(sampleDir, 'FAILED'), `${new Date().toISOString()}\n${(e as Error).message}\n`);
      } catch {
        // unwritable: the error below still reaches the user
      }
    }
    throw e;
  } finally {
    closeOutputDir(sampleDir);
    model.dispose();
    guide?.dispose();
  }
}

/** True when `dir` holds a run or sample directory (the files `--out` refuses to overwrite). */
export function holdsRun(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory() && readdirSync(dir).some((e) => RUN_MARKERS.includes(e));
}
