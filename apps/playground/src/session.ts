/**
 * What the worker runs: builds a setup's plugins, trains (on the fused WebAssembly path when the
 * kernels take the model, on tfjs otherwise), samples with any sampler and step count from the
 * trained weights, and scores samples with the chosen metric and its noise floor, as the runner
 * does (`sampleAndEvaluate`). Plain data in and out, so the page never touches a tensor.
 */
import {
  type Dataset,
  type Denoiser,
  type DenoiserModel,
  type ModelArtifacts,
  type EpochEndEvent,
  generateSamples,
  instantiate,
  type Metric,
  type NoiseSchedule,
  Rng,
  type Sampler,
  type TrainingSet,
  parseOptions,
  train,
  trainingSchema,
} from '@diffusionlab/core';
import { mlpTrainAccelerator } from '@diffusionlab/kernels';
import { getBackend } from '@tensorflow/tfjs-core';
import { pluginOf } from './catalog.js';
import { chooseSamplingPath } from './sampling-path.js';
import type { Setup, SlotChoice } from './setup.js';

/** Thrown from the loop's epoch hook when the user presses Stop; the weights so far are kept. */
export class StopTraining extends Error {
  constructor() {
    super('training stopped by the user');
  }
}

/** Samples with their score, as the page draws them. */
export interface SampleReport {
  samples: Float32Array;
  reference: Float32Array;
  /** Shape of one sample ([1] or [2] for the toys). */
  shape: number[];
  metricName: string;
  metric: number;
  /** The same metric between a perfect generator's draw and the reference: the best any model can score. */
  noiseFloor: number;
  nfe: number;
  steps: number;
  seconds: number;
  /** `fused:…` when the kernels ran the denoiser, else `tfjs`. */
  path: string;
  /** The dataset's standardisation (model space → data space), when it trains standardised. */
  standardization?: { mean: number[]; std: number[] };
  /** Snapshots of the reverse process (first batch), from noise towards data, for the page's slider. */
  trajectory: { step: number; t: number; samples: Float32Array }[];
}

/** How training ended. */
export interface TrainReport {
  steps: number;
  stepsPerSecond: number;
  finalLoss: number;
  path: string;
  /** The tfjs backend active while it trained (what runs the model when `path` is `tfjs`). */
  backend: string;
  acceleratorDeclined?: string;
  stopped: boolean;
}

/** Callbacks the training run reports through. */
export interface TrainHooks {
  onEpoch?(e: EpochEndEvent): void | Promise<void>;
  /** Every `refreshEvery` epochs: samples from the weights so far. */
  onSamples?(r: SampleReport): void;
  refreshEvery?: number;
  /** Awaited once per epoch; throw {@link StopTraining} to stop, or wait to pause. */
  gate?(): Promise<void>;
}

/** An instance of a slot's plugin with its options (validated by the plugin's own schema). */
function make<T>(kind: 'dataset' | 'schedule' | 'denoiser' | 'sampler' | 'metric', choice: SlotChoice): Promise<T> {
  const options = Object.fromEntries(Object.entries(choice.options).filter(([, v]) => v !== undefined));
  return Promise.resolve(instantiate(pluginOf(kind, choice.use), options as never) as T);
}

/** A slot as a checkpoint's metadata records it (`{ use, …options }`, every default filled), as the runner writes it. */
function resolvedSlot(kind: 'dataset' | 'schedule' | 'denoiser', choice: SlotChoice): Record<string, unknown> {
  const options = Object.fromEntries(Object.entries(choice.options).filter(([, v]) => v !== undefined));
  return { use: choice.use, ...(parseOptions(pluginOf(kind, choice.use).options, options, kind) as Record<string, unknown>) };
}

/** The checkpoint of a session: tfjs's artifacts and the metadata `diffusionlab sample` checks (checkpoint/diffusionlab.json). */
export interface SessionCheckpoint {
  artifacts: ModelArtifacts;
  meta: Record<string, unknown>;
}

/** A built setup: its plugins, training set and model, ready to train and sample. */
export class Session {
  /** How the weights came to be: the last training run here, or the checkpoint they were loaded from. */
  private trained: { steps: number; record: Record<string, unknown> } = { steps: 0, record: { steps: 0 } };

  private constructor(
    readonly setup: Setup,
    readonly dataset: Dataset,
    readonly schedule: NoiseSchedule,
    readonly model: DenoiserModel,
    readonly trainable: boolean,
    readonly trainingSet: TrainingSet,
  ) {}

  /**
   * Builds every plugin of `setup`; a bad option throws the plugin's own message naming the key.
   * With `artifacts` (a checkpoint's model.json + weights) the model is loaded instead of initialised,
   * in the same context the runner's `diffusionlab sample` loads it in.
   */
  static async create(setup: Setup, artifacts?: ModelArtifacts): Promise<Session> {
    const rng = new Rng(setup.seed);
    const dataset = await make<Dataset>('dataset', setup.dataset);
    const schedule = await make<NoiseSchedule>('schedule', setup.schedule);
    const denoiser = await make<Denoiser>('denoiser', setup.denoiser);
    const metric = await make<Metric>('metric', setup.metric);
    try {
      metric.check?.({ shape: dataset.shape, info: dataset.info });
    } catch (e) {
      throw new Error(`metric "${setup.metric.use}" does not apply to dataset "${setup.dataset.use}": ${e instanceof Error ? e.message : String(e)} Choose another metric.`);
    }
    const trainingSet = await dataset.load(rng.fork('data'));
    const { predictionType, objective } = parseOptions(trainingSchema, setup.training, 'training');
    const ctx = { dataShape: dataset.shape, schedule, predictionType, objective, rng: rng.fork('init'), dataset, trainingSet };
    const model = artifacts ? await denoiser.load(artifacts, ctx) : await denoiser.build(ctx);
    return new Session(setup, dataset, schedule, model, denoiser.trainable, trainingSet);
  }

  /** Notes that the weights came from a checkpoint trained for `steps` steps (recorded again when it is downloaded). */
  markLoaded(steps: number, record: Record<string, unknown>): void {
    this.trained = { steps, record };
  }

  /**
   * The weights with the metadata the runner writes beside them (checkpoint/diffusionlab.json), so
   * `diffusionlab sample` can check the schedule and data shape before it samples.
   */
  async checkpoint(): Promise<SessionCheckpoint> {
    const setup = this.setup;
    const meta = {
      denoiser: resolvedSlot('denoiser', setup.denoiser),
      dataset: resolvedSlot('dataset', setup.dataset),
      schedule: resolvedSlot('schedule', setup.schedule),
      predictionType: parseOptions(trainingSchema, setup.training, 'training').predictionType,
      dataShape: [...this.dataset.shape],
      numTrainTimesteps: this.schedule.numTrainTimesteps,
      trainingSteps: this.trained.steps,
      final: true,
      training: this.trained.record,
    };
    return { artifacts: await this.model.save(), meta };
  }

  /** Trains the model in place; a stop keeps the weights reached so far. */
  async train(hooks: TrainHooks = {}): Promise<TrainReport> {
    if (!this.trainable) return { steps: 0, stepsPerSecond: 0, finalLoss: Number.NaN, path: 'none (closed-form denoiser)', backend: getBackend(), stopped: false };
    const refresh = hooks.refreshEvery;
    let stopped = false;
    let steps = 0;
    try {
      const result = await train({
        model: this.model,
        trainingSet: this.trainingSet,
        shape: this.dataset.shape,
        schedule: this.schedule,
        config: { ...this.setup.training, ...(refresh ? { checkpointEvery: refresh } : {}) },
        rng: new Rng(this.setup.seed).fork('train'),
        accelerator: mlpTrainAccelerator,
        onEpochEnd: async (e) => {
          steps = e.step;
          await hooks.onEpoch?.(e);
          await hooks.gate?.();
        },
        onCheckpoint: hooks.onSamples
          ? async () => {
              hooks.onSamples?.(await this.sample({ n: Math.min(500, this.setup.samples) }));
            }
          : undefined,
      });
      this.trained = {
        steps: result.steps,
        record: {
          steps: result.steps,
          epochs: result.epochs,
          seconds: result.seconds,
          stepsPerSecond: result.stepsPerSecond,
          finalLoss: result.finalLoss,
          path: result.path,
          trainedIn: 'playground',
        },
      };
      return {
        steps: result.steps,
        stepsPerSecond: result.stepsPerSecond,
        finalLoss: result.finalLoss,
        path: result.path,
        backend: getBackend(),
        acceleratorDeclined: result.acceleratorDeclined,
        stopped,
      };
    } catch (e) {
      if (!(e instanceof StopTraining)) throw e;
      stopped = true;
      this.trained = { steps, record: { steps, stopped: true, trainedIn: 'playground' } };
      return { steps, stepsPerSecond: Number.NaN, finalLoss: Number.NaN, path: 'stopped', backend: getBackend(), stopped };
    }
  }

  /**
   * Samples from the current weights with `sampler` (default: the setup's) and scores them with
   * the setup's metric and its noise floor, as the runner computes both.
   */
  async sample(opts: { sampler?: SlotChoice; n?: number; seed?: number; trajectory?: number } = {}): Promise<SampleReport> {
    const setup = this.setup;
    const n = opts.n ?? setup.samples;
    const rng = new Rng(opts.seed ?? setup.seed);
    const sampler = await make<Sampler>('sampler', opts.sampler ?? setup.sampler);
    const metric = await make<Metric>('metric', setup.metric);
    const { predictionType, objective, accelerate } = parseOptions(trainingSchema, setup.training, 'training');
    const path = chooseSamplingPath({ model: this.model, sampler, schedule: this.schedule, predictionType, accelerate });
    let gen: Awaited<ReturnType<typeof generateSamples>>;
    try {
      gen = await generateSamples({
        model: path.model,
        sampler,
        schedule: this.schedule,
        predictionType,
        objective,
        shape: this.dataset.shape,
        n,
        steps: path.steps,
        rng: rng.fork('sample'),
        trajectorySnapshots: opts.trajectory ?? 0,
        loop: path.loop,
      });
    } finally {
      path.dispose();
    }
    const reference = await this.dataset.reference(n, rng.fork('reference'));
    const perfect = await (this.dataset.perfectDraw ? this.dataset.perfectDraw(n, rng.fork('reference-floor')) : this.dataset.reference(n, rng.fork('reference-floor')));
    const info = this.dataset.info;
    const ctx = () => ({ shape: this.dataset.shape, info, rng: rng.fork(`metric:${setup.metric.use}`).fork('value') });
    const value = await metric.compute(gen.samples, reference, ctx());
    const floor = await metric.compute(perfect, reference, ctx());
    return {
      samples: gen.samples,
      reference,
      shape: [...this.dataset.shape],
      metricName: metric.name,
      metric: typeof value === 'number' ? value : value.value,
      noiseFloor: typeof floor === 'number' ? floor : floor.value,
      nfe: gen.nfe,
      steps: gen.steps,
      seconds: gen.seconds,
      path: path.path,
      ...(info.standardization ? { standardization: { mean: [...info.standardization.mean], std: [...info.standardization.std] } } : {}),
      trajectory: gen.trajectory,
    };
  }

  /** Frees the model's tensors. */
  dispose(): void {
    this.model.dispose();
  }
}
