/**
 * The plugin spec: the interfaces every schedule, dataset, denoiser, sampler, metric and reporter
 * implements. Plugins exchange plain typed arrays and tensors they own; reporters only ever see
 * plain data, never tensors.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Advice } from './advice.js';
import type { Objective } from './flow.js';
import type { PredictionType } from './prediction.js';
import type { Rng } from './rng.js';
import type { ReverseLoopDescription } from './reverse-loop.js';
import type { NoiseSchedule, ScheduleDiagnostics } from './schedule.js';

// ---------------------------------------------------------------------------------------------
// Datasets

/** A diagonal Gaussian mixture, described exactly so that the oracle denoiser and modes metric can use it. */
export interface GaussianMixtureInfo {
  /** Mixing weights, summing to 1. */
  weights: number[];
  /** Component means, each of length D = prod(shape). */
  means: number[][];
  /** Per-dimension standard deviations, each of length D. */
  stds: number[][];
}

/** What a dataset knows about itself beyond raw samples; every field optional. */
export interface DatasetInfo {
  /** Exact density, when the data is a Gaussian mixture. */
  mixture?: GaussianMixtureInfo;
  /** Mode centres (and the radius that counts as "on" a mode), for the modes metric on toy sets. */
  modes?: { centers: number[][]; radius?: number };
  /** The affine map applied to the raw data (x_model = (x_raw − mean) / std), reversible for plots. */
  standardization?: { mean: number[]; std: number[] };
  /** Value range of the data (e.g. [-1, 1] for images), for clipping and image reporters. */
  range?: [number, number];
  /** Class labels of the training set, when there are any (digits). Prefer {@link TrainingSet.labels}, which every labelled dataset fills. */
  labels?: Int32Array;
}

/**
 * n points with the class of each row: what conditional training and conditional metrics need. Labels
 * are class indices into {@link Dataset.labelNames}; `data` is exactly what the unlabelled draw gives
 * for the same rng (labels consume no random numbers).
 */
export interface LabeledDraw {
  data: Float32Array;
  labels: Int32Array;
}

/** The training set, already in the space the model trains on, laid out row-major [count, …shape]. */
export interface TrainingSet {
  data: Float32Array;
  count: number;
  /**
   * For data "drawn fresh" (no finite size): a draw of n new points. When present the training
   * loop draws each batch fresh and `data` is only one epoch's worth used to size epochs.
   */
  fresh?: (n: number, rng: Rng) => Float32Array;
  /** Class index of each row of `data`, for labelled datasets (see {@link Dataset.labelNames}). */
  labels?: Int32Array;
  /** `fresh` with each row's class (same data for the same rng); present on labelled fresh-drawn sets. */
  freshLabeled?: (n: number, rng: Rng) => LabeledDraw;
}

/** A source of training data and of reference draws for evaluation. */
export interface Dataset {
  readonly name: string;
  /** Shape of one sample: [D] for vectors, [H, W, C] for images. */
  readonly shape: readonly number[];
  readonly info: DatasetInfo;
  /** Notes the run should surface (e.g. reference draws made with replacement); appended as they arise. */
  readonly warnings?: string[];
  /** The training set, deterministic for a given rng. */
  load(rng: Rng): TrainingSet | Promise<TrainingSet>;
  /** n points the model did not train on (fresh draws or a held-out split), in model space. */
  reference(n: number, rng: Rng): Float32Array | Promise<Float32Array>;
  /**
   * n i.i.d. draws from the data distribution itself: what a perfect generator would output. The
   * noise floor of every metric compares such a draw with the reference, so that a reference made
   * less noisy by design (e.g. stratified, exactly wᵢ·n points per mixture component) does not set a
   * floor no generator can reach. Defaults to {@link Dataset.reference} when omitted.
   */
  perfectDraw?(n: number, rng: Rng): Float32Array | Promise<Float32Array>;
  /**
   * Names of the classes labels index (a mixture's components, a toy set's arms, the digits), present
   * exactly when the dataset gives labels: why: conditional training sizes its class embedding by it and
   * checkpoints record it.
   */
  readonly labelNames?: readonly string[];
  /** {@link Dataset.reference} with each row's class (same data for the same rng); on labelled datasets. */
  labeledReference?(n: number, rng: Rng): LabeledDraw | Promise<LabeledDraw>;
  /** {@link Dataset.perfectDraw} (or the reference when that is absent) with each row's class; on labelled datasets. */
  labeledPerfectDraw?(n: number, rng: Rng): LabeledDraw | Promise<LabeledDraw>;
}

// ---------------------------------------------------------------------------------------------
// Denoisers

/** Serialised weights in tfjs's standard format (`model.json` + `weights.bin`). */
export type ModelArtifacts = tf.io.ModelArtifacts;

/** Everything a denoiser may need to size itself or (oracle) compute in closed form. */
export interface DenoiserBuildContext {
  dataShape: readonly number[];
  schedule: NoiseSchedule;
  predictionType: PredictionType;
  /**
   * The training objective (flow.ts); absent means `ddpm`. Only closed-form denoisers (oracle) read
   * it: a trained network sees its time input in [0, T] under either objective (`flowModelTime`).
   */
  objective?: Objective;
  /** Seeds weight initialisation. */
  rng: Rng;
  dataset?: Dataset;
  /** The training set, for denoisers that use it directly (oracle over a finite set). */
  trainingSet?: TrainingSet;
  /**
   * The classes of a class-conditional model (`conditioning.enabled`); absent for an unconditional
   * one. The model embeds K = labelNames.length classes plus the null class K (no label).
   */
  labelNames?: readonly string[];
}

/** A built network (or closed-form function) that predicts from (xₜ, t). */
export interface DenoiserModel {
  /** Short description of the architecture, for the run record. */
  readonly architecture: string;
  /**
   * Predicts the experiment's target (ε, x₀ or v) from xₜ of shape [n, …dataShape] and t, a float32
   * tensor [n] of timesteps in [0, T) (fractional for samplers that interpolate). Under
   * `training.objective: flow` it predicts the velocity ε − x₀, and t is the flow time scaled to
   * t·T ∈ [0, T] (`flowModelTime`), the same range. A conditional model (one with `labelNames`) also
   * takes `labels`, an int32 tensor [n] of class indices in [0, K], K being the null class; without
   * them it predicts unconditionally. Unconditional models ignore `labels`. The caller owns the result.
   */
  predict(xt: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor): tf.Tensor;
  /** The classes a conditional model was built (or trained) for, restored from its checkpoint; absent when unconditional. */
  readonly labelNames?: readonly string[];
  /** Trainable variables, with stable names (checkpoints, EMA, optimiser state key on them). */
  readonly variables: readonly tf.Variable[];
  /** Number of trainable scalars. */
  readonly parameterCount: number;
  /** Weights and topology in tfjs's format; loads in a browser with `tf.loadLayersModel` where the model is a layers model. */
  save(): Promise<ModelArtifacts>;
  dispose(): void;
  /**
   * The model's structure, for fast paths (fused kernels) that run known architectures without tfjs
   * op overhead; absent (or null) for models no fast path needs to know.
   */
  describe?(): ModelDescription | null;
}

/** Activations a described network may use (as `seed-mlp` and `mlp` name them). */
export type Activation = 'silu' | 'relu' | 'gelu' | 'tanh';

/** What {@link DenoiserModel.describe} returns: one variant per architecture, told apart by `kind`. */
export type ModelDescription = PlainMlpDescription | ResidualMlpDescription | UnetDescription;

/**
 * A structural description of a plain MLP denoiser, offered so fused kernels (accelerators) can run
 * it without tfjs op overhead: out = L_k(act(… act(L_1(concat(x_flat, t))) …)).
 */
export interface PlainMlpDescription {
  kind: 'plain-mlp';
  /** How t enters: appended raw to the flattened input (the reference network). */
  input: 'concat-raw-t';
  activation: Activation;
  /** Dense layers in order; kernel [in, out] (Keras layout), bias [out]. These are the model's own variables. */
  layers: { kernel: tf.Variable; bias: tf.Variable }[];
}

/** One dense layer's variables: kernel [in, out] (Keras layout), bias [out]; the model's own variables. */
export interface DenseVariables {
  kernel: tf.Variable;
  bias: tf.Variable;
}

/**
 * A structural description of the residual MLP denoiser (`mlp`), offered so fused kernels can run it:
 * e = act(L_time(emb(t))), h₀ = L_in(feat(x)), hᵢ₊₁ = hᵢ + Lᵢ,₁(act(Lᵢ,₀(act(hᵢ)) + Lᵢ,ₜ(e))),
 * out = L_out(act(h_depth)); emb is the sinusoidal embedding of 1000·t/T with `timeEmbedding`
 * features (sines then cosines), feat appends `inputEmbedding` Fourier frequencies to x (0 = none).
 */
export interface ResidualMlpDescription {
  kind: 'residual-mlp';
  activation: Activation;
  /** Flattened data dimension D (input and output width). */
  dataDim: number;
  width: number;
  depth: number;
  /** Dimension of the sinusoidal time embedding (even). */
  timeEmbedding: number;
  /** T, by which the model normalises t before embedding it. */
  numTrainTimesteps: number;
  /** Fourier input frequencies F (features [x, sin(2ᵏx), cos(2ᵏx)]); 0 = x only. */
  inputEmbedding: number;
  time: DenseVariables;
  input: DenseVariables;
  /** Per residual block: first linear layer, time projection, second linear layer. */
  blocks: { dense0: DenseVariables; time: DenseVariables; dense1: DenseVariables }[];
  out: DenseVariables;
  /**
   * A class-conditional model's class embedding C, [K + 1, width] (row K the null class), present
   * exactly when the model has `labelNames`: why: e = act(L_time(emb(t)) + C[y]) adds row y to the
   * time layer's pre-activation, so a fast path must run it (or decline) rather than drop it.
   */
  classEmbedding?: tf.Variable;
}

/** One weighted layer of a described network: its name in the model (`${name}/kernel`, `${name}/bias`) and variables. */
export interface NamedLayerVariables {
  /** The layer's name, e.g. `down_0_0_conv_0`; a fast path rebuilds the expected list and compares. */
  name: string;
  /** Conv kernel [k, k, cᵢₙ, c_out] or dense kernel [in, out] (Keras layout). */
  kernel: tf.Variable;
  bias: tf.Variable;
}

/**
 * A structural description of the `unet` denoiser (Ronneberger et al. 2015, as in Ho et al. 2020,
 * App. B), offered so fused kernels can run it. Every architecture option of the denoiser appears
 * as a field (the model spreads its parsed options), so an option added later shows up here by
 * itself: a fast path must decline a description with any field it does not know, never ignore it.
 */
export interface UnetDescription {
  kind: 'unet';
  /** Image shape [H, W, C]. */
  dataShape: readonly number[];
  /** T, by which the model normalises t before its sinusoidal embedding of 1000·t/T. */
  numTrainTimesteps: number;
  /** Base channel count C. */
  channels: number;
  /** Level l has C·channelMultipliers[l] channels; one 2× average-pool between levels. */
  channelMultipliers: readonly number[];
  blocksPerLevel: number;
  /** Dimension of the sinusoidal time embedding (even). */
  timeEmbedding: number;
  activation: Activation;
  /** Normalisation in the residual blocks: none (the original unet) or GroupNorm; a fast path that lacks one declines. */
  norm?: 'none' | 'group';
  /** GroupNorm groups; read only when `norm` is `group`. */
  groups?: number;
  /** Self-attention at the lowest resolution; a fast path without it declines a model that has it. */
  attention?: boolean;
  /** Attention heads; read only when `attention` is on. */
  attentionHeads?: number;
  /** Every weighted layer in the model's creation order (the order of `model.variables`, kernel then bias; a GroupNorm layer's γ and β stand as its kernel and bias). */
  layers: NamedLayerVariables[];
  /**
   * A class-conditional U-Net's class embedding C, [K + 1, 4·channels] (row K the null class; the
   * last of `model.variables`), present exactly when the model has `labelNames`: why: it is added
   * to the time layer's pre-activation, so a fast path runs it (or declines) rather than drop it.
   */
  classEmbedding?: tf.Variable;
}

/** What a denoiser plugin's `create` returns: a recipe for building or loading models. */
export interface Denoiser {
  readonly name: string;
  /** False for closed-form denoisers (oracle): the runner skips training. */
  readonly trainable: boolean;
  build(ctx: DenoiserBuildContext): DenoiserModel | Promise<DenoiserModel>;
  /** Rebuilds a saved model; `save()` → `load()` → `predict` gives identical output. */
  load(artifacts: ModelArtifacts, ctx: DenoiserBuildContext): DenoiserModel | Promise<DenoiserModel>;
}

// ---------------------------------------------------------------------------------------------
// Samplers

/**
 * The model as samplers see it: (ε̂, x̂₀) at a timestep, whatever the prediction type. For a
 * flow-matching model (`training.objective: flow`) t is the flow time in [0, 1] and the pair comes
 * from the velocity (`velocityToEpsilonAndX0`), so ε̂ − x̂₀ is the velocity; the runner pairs a
 * model only with samplers that declare its objective ({@link Sampler.objectives}).
 */
export type DenoiseFn = (xt: tf.Tensor, t: number) => { eps: tf.Tensor; x0: tf.Tensor };

/** Called after each sampler step with the current state (read-only; do not dispose). */
export interface SamplerStepInfo {
  /** 0 for the initial state (before the first model evaluation), then 1 … total after each step. */
  step: number;
  total: number;
  /** Timestep just reached (continuous; −1 after the final step, i.e. t = 0 data). */
  t: number;
  x: tf.Tensor;
}

/** Inputs to one sampling call; everything a multistep sampler remembers lives inside that call. */
export interface SampleParams {
  denoise: DenoiseFn;
  schedule: NoiseSchedule;
  /** Shape of one sample. */
  shape: readonly number[];
  /** Number of samples. */
  n: number;
  /** Number of sampler steps (defaults to the sampler's own default). */
  steps?: number;
  rng: Rng;
  onStep?: (info: SamplerStepInfo) => void;
}

/** A sampler's result: the samples (the caller owns the tensor) and how many model evaluations it cost. */
export interface SampleOutput {
  x: tf.Tensor;
  nfe: number;
  /** Run-time choices the config does not show (e.g. the σ a σ-space run started from); recorded as-is in summary.json. */
  info?: Record<string, number | string | boolean>;
}

/** A reverse-process integrator. Stateless across calls. */
export interface Sampler {
  readonly name: string;
  /** Step count used when the call gives none: the sampler's own `steps` option, else its documented default. */
  readonly defaultSteps: number;
  /** Default step count for a given schedule, where it depends on T (DDPM visits every timestep). */
  defaultStepsFor?(schedule: NoiseSchedule): number;
  /** The decreasing training timesteps this sampler visits for a given step count. */
  timesteps(schedule: NoiseSchedule, steps: number): number[];
  /**
   * Throws a ConfigError when the configured options cannot run on this schedule (e.g. more
   * sampling steps than training timesteps). The runner calls it before any work, as it does
   * `Metric.check`, so a bad step count fails in seconds and the rule stays the sampler's own.
   */
  check?(schedule: NoiseSchedule): void;
  sample(params: SampleParams): Promise<SampleOutput>;
  /**
   * Combinations this sampler is known to handle poorly (e.g. a σ grid from a huge σ_max), with
   * fixes; the runner prints what it returns at `validate` and before a run, and never inspects a
   * sampler's name or options itself. Optional: no advice means none known.
   */
  advise?(ctx: SamplerAdviceContext): Advice[];
  /**
   * The structure of the loop `sample({ schedule, steps })` would run, when it is one that an
   * accelerator may run in its place with the same draws ({@link ReverseLoopDescription}); null
   * when it is anything else (e.g. x̂₀ clipping, skipped steps). Why: the runner connects a
   * sampler to a fused loop by what the loop is, never by the sampler's name or options.
   * Optional: absent means no accelerator may replace this sampler's loop.
   */
  describeLoop?(schedule: NoiseSchedule, steps?: number): ReverseLoopDescription | null;
  /**
   * The training objectives whose models this sampler integrates (flow.ts); absent means
   * `['ddpm']`. Why: the runner and core's sampling loop refuse a model the sampler would misread
   * (`assertSamplerObjective`) by this declaration, never by the sampler's name.
   */
  readonly objectives?: readonly Objective[];
}

/** What a sampler may weigh when it advises on a combination (see {@link Sampler.advise}). */
export interface SamplerAdviceContext {
  schedule: NoiseSchedule;
  predictionType: PredictionType;
  /** The steps this run will take. */
  steps: number;
  /** False for closed-form denoisers (their prediction is exact, so no error is magnified). */
  trainable: boolean;
}

// ---------------------------------------------------------------------------------------------
// Metrics

/**
 * Class labels beside a generated and a reference set, for conditional generation: they let a
 * metric ask "did it draw what was requested" and a figure group samples by class.
 */
export interface ClassLabels {
  /**
   * The class requested for each generated sample (index into `names`); for a noise floor, where a
   * perfect draw stands in for the samples, each draw's true class.
   */
  samples: Int32Array;
  /** The true class of each reference sample (index into `names`). */
  reference: Int32Array;
  /** Class names by index (`'0'`…`'9'` for digits, component or arm names otherwise). */
  names: readonly string[];
}

/** What a metric may know besides the two sample sets. */
export interface MetricContext {
  /** Shape of one sample. */
  shape: readonly number[];
  info: DatasetInfo;
  /** Seeds any randomness (e.g. projections); fixed per metric so noise floors compare like with like. */
  rng: Rng;
  /** Requested and true classes of a conditional run; absent for an unconditional one (metrics that need them refuse). */
  labels?: ClassLabels;
}

/** A scalar, or a scalar with details (e.g. per-mode fractions) that the summary keeps beside it. */
export type MetricResult = number | { value: number; details?: Record<string, number | number[] | string> };

/** A sample-quality measure on typed arrays [n, …shape] in data space. */
export interface Metric {
  readonly name: string;
  /** True where bigger means better (coverage); false for distances. */
  readonly higherIsBetter: boolean;
  compute(generated: Float32Array, reference: Float32Array, ctx: MetricContext): MetricResult | Promise<MetricResult>;
  /**
   * Throws when the metric cannot apply to this dataset (e.g. `modes` on data with no modes). The
   * runner calls it before training, so a misfit metric fails in seconds, not after an hour.
   * `labelNames` are the classes a conditional run will generate (absent for an unconditional run),
   * so a metric that needs {@link MetricContext.labels} refuses an unconditional run up front.
   */
  check?(ctx: { shape: readonly number[]; info: DatasetInfo; labelNames?: readonly string[] }): void;
}

// ---------------------------------------------------------------------------------------------
// Reporters (plain data only)

export interface RunStartEvent {
  runDir: string;
  name: string;
  config: unknown;
  env: Record<string, unknown>;
  dataShape: readonly number[];
  schedule: NoiseSchedule;
  diagnostics: ScheduleDiagnostics;
  totalSteps: number;
  epochs: number;
  parameterCount: number;
  warnings: string[];
}

export interface TrainProgressEvent {
  step: number;
  totalSteps: number;
  epoch: number;
  epochs: number;
  elapsedSeconds: number;
}

export interface EpochEndEvent {
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  /** Mean batch loss over this epoch (what the reference prints). */
  meanLoss: number;
  /** True on the epochs the config asked to log (`training.logEvery`). */
  logged: boolean;
  elapsedSeconds: number;
  learningRate: number;
}

export interface SampleEvent {
  sampler: string;
  samples: Float32Array;
  reference: Float32Array;
  shape: readonly number[];
  n: number;
  nfe: number;
  seconds: number;
  /** Snapshots of the samples during the reverse process (first, …, last). */
  trajectory: { step: number; t: number; samples: Float32Array }[];
  info: DatasetInfo;
  /** Requested classes of the samples and true classes of the reference, for a conditional run (figures then group by class). */
  labels?: ClassLabels;
}

export interface EvaluateEvent {
  /** Metric values and their noise floors (`w1`, `w1NoiseFloor`, …). */
  metrics: Record<string, number>;
  details: Record<string, number | number[] | string>;
}

export interface RunEndEvent {
  runDir: string;
  summary: Record<string, unknown>;
  /** Loss per epoch, for loss curves. */
  lossHistory: { epoch: number; step: number; loss: number }[];
}

/** A reporter: any subset of hooks; each may be async. Errors are reported by the runner and do not lose the model. */
export interface Reporter {
  readonly name: string;
  onRunStart?(e: RunStartEvent): void | Promise<void>;
  onTrainProgress?(e: TrainProgressEvent): void;
  onEpochEnd?(e: EpochEndEvent): void | Promise<void>;
  onSample?(e: SampleEvent): void | Promise<void>;
  onEvaluate?(e: EvaluateEvent): void | Promise<void>;
  onRunEnd?(e: RunEndEvent): void | Promise<void>;
}
