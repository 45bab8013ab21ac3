/**
 * A resolved config's plugins, instantiated and checked together, in two named steps: a pure
 * {@link instantiatePlugins} (what `validate` runs: no backend, no data, no files) and
 * {@link activateBackend}, which switches tfjs's global backend for `run`, `sample` and `sweep`.
 * The reporters join once the run directory exists (run-start.ts), and the {@link Built}
 * experiment is put together there, once.
 */
import {
  assertSamplerObjective,
  ConfigError,
  type Dataset,
  type Denoiser,
  type DenoiserBuildContext,
  type DenoiserModel,
  isDiffusionLabError,
  type Metric,
  type NoiseSchedule,
  type Objective,
  type PluginContext,
  type PluginInstances,
  type PluginKind,
  requestedLabels,
  type Rng,
  type Sampler,
  samplerObjectives,
  type TrainAccelerator,
  type TrainingSet,
} from '@diffusionlab/core';
import { type FusedProbe, probeTrainAccelerator } from './auto-backend.js';
import { type BackendInfo, setupBackend } from './backend.js';
import type { ResolvedExperiment, ResolvedSlot } from './config.js';
import { checkDatasetMemory, checkRunMemory } from './limits.js';
import { builtinRegistry } from './plugins.js';
import type { ReporterSet } from './reporter-set.js';
import { plannedSteps } from './warnings.js';

/** The plugins of one experiment, instantiated from its resolved config and checked together. */
export interface Plugins {
  readonly dataset: Dataset;
  readonly schedule: NoiseSchedule;
  readonly denoiser: Denoiser;
  readonly sampler: Sampler;
  readonly metrics: readonly { readonly slot: ResolvedSlot; readonly metric: Metric }[];
}

/**
 * Everything built from a resolved config, shared by `run` and `sample`: the plugins, the backend
 * they run on and the reporters writing into the run directory. Built once, never changed after.
 */
export interface Built extends Plugins {
  readonly reporters: ReporterSet;
  readonly backend: BackendInfo;
}

/** Creates one plugin from its resolved slot (options already parsed by its schema). */
export async function createPlugin<K extends PluginKind>(slot: ResolvedSlot, ctx: PluginContext): Promise<PluginInstances[K]> {
  return (await slot.def.create(slot.options, ctx)) as PluginInstances[K];
}

/**
 * Runs the sampler's own `check` on this schedule before any work (the built-in samplers refuse
 * more sampling steps than training timesteps there), then asks it for the timesteps of the step
 * count it will take ({@link plannedSteps}); why: a default step count above T (ddim's 100 on a
 * 20-step schedule) and a third-party sampler without `check` then fail in seconds, not after
 * training, and the runner still never reads `sampler.steps`. A plain error from a third-party
 * sampler is reported at the sampler's key.
 */
export function checkSampler(slot: ResolvedSlot, sampler: Sampler, schedule: NoiseSchedule): void {
  try {
    sampler.check?.(schedule);
    sampler.timesteps(schedule, plannedSteps(sampler, schedule));
  } catch (e) {
    if (isDiffusionLabError(e)) throw e;
    throw new ConfigError({ path: slot.path, message: (e as Error).message });
  }
}

/**
 * Refuses a sampler that does not declare the model's training objective (`Sampler.objectives`),
 * before any work; the fix names the built-in samplers that do (each created with its defaults, only
 * on this error path). Why: the runner pairs model and sampler by what the sampler declares, never
 * by its name.
 */
async function checkSamplerObjective(objective: Objective, sampler: Sampler, ctx: PluginContext): Promise<void> {
  if (samplerObjectives(sampler).includes(objective)) return;
  const registry = builtinRegistry();
  const choices: string[] = [];
  for (const name of registry.names('sampler')) {
    const def = registry.get('sampler', name);
    try {
      const candidate = (await def.create(def.options.parse({}), ctx)) as Sampler;
      if (samplerObjectives(candidate).includes(objective)) choices.push(name);
    } catch {
      // a sampler that cannot be made with its defaults is no suggestion
    }
  }
  assertSamplerObjective(sampler, objective, choices);
}

/**
 * Instantiates every plugin of a resolved config and runs the checks that need them (steps ≤ T,
 * prediction type vs schedule, metrics vs dataset) — no backend, no data loaded, nothing written.
 * `validate` stops here; `run`, `sample` and `sweep` go on to {@link activateBackend}.
 */
export async function instantiatePlugins(r: ResolvedExperiment, ctx: PluginContext): Promise<Plugins> {
  checkDatasetMemory(r);
  const dataset = await createPlugin<'dataset'>(r.dataset, ctx);
  checkRunMemory(r, dataset.shape);
  const schedule = await createPlugin<'schedule'>(r.schedule, ctx);
  const denoiser = await createPlugin<'denoiser'>(r.denoiser, ctx);
  const sampler = await createPlugin<'sampler'>(r.sampler, ctx);
  checkSampler(r.sampler, sampler, schedule);
  await checkSamplerObjective(r.experiment.training.objective, sampler, ctx);
  const metrics = await Promise.all(r.metrics.map(async (slot) => ({ slot, metric: await createPlugin<'metric'>(slot, ctx) })));
  checkPredictionFitsSchedule(r, schedule, denoiser.trainable);
  checkConditioning(r, dataset);
  // Before any training: a metric that cannot apply to this dataset is a config error now, not after the run.
  // A conditional run generates the dataset's classes; a metric that needs them refuses any other run here.
  const labelNames = r.experiment.conditioning?.enabled ? dataset.labelNames : undefined;
  for (const { slot, metric } of metrics) {
    try {
      metric.check?.({ shape: dataset.shape, info: dataset.info, ...(labelNames ? { labelNames } : {}) });
    } catch (e) {
      throw new ConfigError({ path: slot.path, message: (e as Error).message }, { hint: (e as { hint?: string }).hint });
    }
  }
  return { dataset, schedule, denoiser, sampler, metrics };
}

/** What `backend: auto` needs to ask the training accelerator about the run's model before choosing. */
export interface BackendProbe {
  /** The accelerator the run trains with (`training.accelerate` is checked here); absent: none on offer. */
  accelerator?: TrainAccelerator;
  /** The run's training set, so the throwaway model is built as the real one will be (some denoisers read the data). */
  trainingSet: TrainingSet;
  /** The run's seeded stream; the throwaway model draws from a fork of its own, so the run's draws are unchanged. */
  rng: Rng;
}

/**
 * Whether the run's accelerator trains this model — `auto`'s one question about the model. Builds a
 * throwaway model on the active backend (from its own rng stream, so the run's model is unchanged),
 * offers it as train() will offer the real one, and disposes it: no tensor is left behind.
 */
export async function probeFusedTraining(r: ResolvedExperiment, plugins: Pick<Plugins, 'denoiser' | 'dataset' | 'schedule'>, probe: BackendProbe | undefined): Promise<FusedProbe> {
  const { denoiser } = plugins;
  const training = r.experiment.training;
  if (!denoiser.trainable) return { declined: 'the denoiser is closed-form: nothing trains' };
  if (!training.accelerate) return { declined: 'training.accelerate is false' };
  if (!probe?.accelerator) return { declined: 'no training accelerator is loaded' };
  const model = await denoiser.build(denoiserBuildContext(r, plugins, probe.rng.fork('backend-probe'), probe.trainingSet));
  try {
    return probeTrainAccelerator(probe.accelerator, { model, shape: plugins.dataset.shape, config: training });
  } finally {
    model.dispose();
  }
}

/**
 * Switches tfjs's global backend to the one the config asks for (`auto`: the fastest for this
 * denoiser, auto-backend.ts; it asks {@link probeFusedTraining} only when tfjs-node loads), so it is
 * a step of its own that `validate` never takes.
 */
export async function activateBackend(r: ResolvedExperiment, plugins: Pick<Plugins, 'denoiser' | 'dataset' | 'schedule'>, probe?: BackendProbe): Promise<BackendInfo> {
  return await setupBackend(r.experiment.backend, { probeFused: () => probeFusedTraining(r, plugins, probe) });
}

/**
 * What a denoiser is built or loaded with, the same for `run` and `sample` (same rng labels), so
 * sampling a run with its own settings reproduces its samples exactly.
 */
export function denoiserBuildContext(r: ResolvedExperiment, plugins: Pick<Plugins, 'dataset' | 'schedule'>, rng: Rng, trainingSet: TrainingSet): DenoiserBuildContext {
  return {
    dataShape: plugins.dataset.shape,
    schedule: plugins.schedule,
    predictionType: r.experiment.training.predictionType,
    objective: r.experiment.training.objective,
    rng: rng.fork('init'),
    dataset: plugins.dataset,
    trainingSet,
    ...(r.experiment.conditioning?.enabled && plugins.dataset.labelNames ? { labelNames: plugins.dataset.labelNames } : {}),
  };
}

/**
 * A conditional config needs a dataset with labels, and `evaluation.classes` classes it has; checked
 * with the other plugin checks (before any training), so `validate` catches them too.
 */
function checkConditioning(r: ResolvedExperiment, dataset: Dataset): void {
  const classes = r.experiment.evaluation.classes;
  // Every requested class must exist, checked now rather than after training.
  if (classes !== undefined && dataset.labelNames) requestedLabels(classes, dataset.labelNames, 0);
  if (r.experiment.conditioning?.enabled && !dataset.labelNames) {
    throw new ConfigError(
      { path: 'conditioning.enabled', message: `the ${r.dataset.use} dataset (as configured) gives no class labels to condition on` },
      { hint: 'use a labelled dataset (digits, gaussian-mixture, moons, eight-gaussians, pinwheel, two-spirals, or file with labelColumn), or set conditioning.enabled=false.' },
    );
  }
}

/**
 * After building or loading: a conditional config whose denoiser built an unconditional model (one
 * without `labelNames`) would train and sample without the labels, silently; refused instead.
 */
export function checkConditionalModel(r: ResolvedExperiment, model: Pick<DenoiserModel, 'labelNames'>): void {
  const wanted = r.experiment.conditioning?.enabled ?? false;
  if (wanted && !model.labelNames) {
    throw new ConfigError(
      { path: 'denoiser.use', message: `the ${r.denoiser.use} denoiser does not take class labels, so it cannot be trained with conditioning.enabled=true` },
      { hint: 'use denoiser.use=mlp for a conditional model, or set conditioning.enabled=false.' },
    );
  }
  if (!wanted && model.labelNames) {
    throw new ConfigError(
      { path: 'conditioning.enabled', message: 'the checkpoint holds a class-conditional model but this config is unconditional' },
      { hint: 'keep the run’s conditioning section.' },
    );
  }
}

/**
 * A trained ε-model cannot define x̂₀ = (xₜ − √(1−ᾱₜ)·ε̂)/√ᾱₜ where ᾱₜ = 0 (zero terminal SNR,
 * Lin et al. 2023 §3.2), so that combination is refused before training; only the exact oracle
 * survives it.
 */
function checkPredictionFitsSchedule(r: ResolvedExperiment, schedule: NoiseSchedule, trainable: boolean): void {
  const last = schedule.alphasCumprod[schedule.numTrainTimesteps - 1];
  // Flow models never divide by √ᾱ: their time input is the flow time, not the schedule's ᾱ.
  if (r.experiment.training.objective === 'flow') return;
  if (trainable && r.experiment.training.predictionType === 'epsilon' && last === 0) {
    throw new ConfigError(
      { path: 'training.predictionType', message: 'epsilon prediction cannot be sampled from a schedule with ᾱ_T = 0 (zero terminal SNR): x̂₀ would divide by √ᾱ_T = 0' },
      { hint: 'add training.predictionType=v (as Lin et al. 2023 do) or training.predictionType=sample, or drop schedule.rescaleZeroTerminalSnr.' },
    );
  }
}
