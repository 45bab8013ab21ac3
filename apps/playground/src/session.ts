/**
 * What the worker runs: builds a setup's plugins, trains (on the fused WebAssembly path when the
 * kernels take the model, on tfjs otherwise), samples with any sampler and step count from the
 * trained weights, and scores samples with the chosen metric and its noise floor, as the runner
 * does (`sampleAndEvaluate`). Plain data in and out, so the page never touches a tensor.
 */
import {
  type Dataset,
  type DenoiserModel,
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
import { createFusedPredictModel, mlpTrainAccelerator } from '@diffusionlab/kernels';
import { pluginOf } from './catalog.js';
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
  /** Snapshots of the reverse process (first batch), from noise towards data, for the page's slider. */
  trajectory: { step: number; t: number; samples: Float32Array }[];
}

/** How training ended. */
export interface TrainReport {
  steps: number;
  stepsPerSecond: number;
  finalLoss: number;
  path: string;
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

/** A built setup: its plugins, training set and model, ready to train and sample. */
export class Session {
  private constructor(
    readonly setup: Setup,
    readonly dataset: Dataset,
    readonly schedule: NoiseSchedule,
    readonly model: DenoiserModel,
    readonly trainable: boolean,
    readonly trainingSet: TrainingSet,
  ) {}

  /** Builds every plugin of `setup`; a bad option throws the plugin's own message naming the key. */
  static async create(setup: Setup): Promise<Session> {
    const rng = new Rng(setup.seed);
    const dataset = await make<Dataset>('dataset', setup.dataset);
    const schedule = await make<NoiseSchedule>('schedule', setup.schedule);
    const denoiser = await make<{ trainable: boolean; build(ctx: unknown): Promise<DenoiserModel> | DenoiserModel }>('denoiser', setup.denoiser);
    const metric = await make<Metric>('metric', setup.metric);
    try {
      metric.check?.({ shape: dataset.shape, info: dataset.info });
    } catch (e) {
      throw new Error(`metric "${setup.metric.use}" does not apply to dataset "${setup.dataset.use}": ${e instanceof Error ? e.message : String(e)} Choose another metric.`);
    }
    const trainingSet = await dataset.load(rng.fork('data'));
    const { predictionType, objective } = parseOptions(trainingSchema, setup.training, 'training');
    const model = await denoiser.build({ dataShape: dataset.shape, schedule, predictionType, objective, rng: rng.fork('init'), dataset, trainingSet });
    return new Session(setup, dataset, schedule, model, denoiser.trainable, trainingSet);
  }

  /** Trains the model in place; a stop keeps the weights reached so far. */
  async train(hooks: TrainHooks = {}): Promise<TrainReport> {
    if (!this.trainable) return { steps: 0, stepsPerSecond: 0, finalLoss: Number.NaN, path: 'none (closed-form denoiser)', stopped: false };
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
      return {
        steps: result.steps,
        stepsPerSecond: result.stepsPerSecond,
        finalLoss: result.finalLoss,
        path: result.path,
        acceleratorDeclined: result.acceleratorDeclined,
        stopped,
      };
    } catch (e) {
      if (!(e instanceof StopTraining)) throw e;
      stopped = true;
      return { steps, stepsPerSecond: Number.NaN, finalLoss: Number.NaN, path: 'stopped', stopped };
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
    const { predictionType, objective } = parseOptions(trainingSchema, setup.training, 'training');
    const fused = createFusedPredictModel(this.model, { residual: true });
    let gen: Awaited<ReturnType<typeof generateSamples>>;
    try {
      gen = await generateSamples({
        model: typeof fused === 'string' ? this.model : fused,
        sampler,
        schedule: this.schedule,
        predictionType,
        objective,
        shape: this.dataset.shape,
        n,
        rng: rng.fork('sample'),
        trajectorySnapshots: opts.trajectory ?? 0,
      });
    } finally {
      if (typeof fused !== 'string') fused.dispose();
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
      path: typeof fused === 'string' ? 'tfjs' : fused.path,
      trajectory: gen.trajectory,
    };
  }

  /** Frees the model's tensors. */
  dispose(): void {
    this.model.dispose();
  }
}
