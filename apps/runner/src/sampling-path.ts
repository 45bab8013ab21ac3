/**
 * Which sampling path a run takes. A plain MLP on the wasm backend (with `training.accelerate`)
 * samples through the fused kernels (a residual MLP and a U-Net through their fused forward pass): the whole loop when the sampler declares one the kernels run
 * (`Sampler.describeLoop`, e.g. `ddpm` over every timestep) and the kernels accept it, else the
 * fused forward pass inside the sampler's own tfjs loop (so every sampler benefits and its math is
 * untouched). Anything else samples on tfjs, and the run records why. The runner only connects the
 * sampler's declaration to the kernels' check; it never reads a sampler's name or options. Both
 * fused paths draw the same noise as the tfjs path, so the samples agree up to float rounding.
 */
import type { DenoiserModel, NoiseSchedule, PredictionType, Sampler, SamplingLoop } from '@diffusionlab/core';
import { createFusedPredictModel, FUSED_MLP_PATH, fusedDdpmLoop } from '@diffusionlab/kernels';
import { availableParallelism, loadavg } from 'node:os';

/** The path of the whole-loop fused DDPM sampler, as summary.json records it. */
export const FUSED_DDPM_PATH = `${FUSED_MLP_PATH}-ddpm`;

/**
 * Rows × timesteps × parameters below which the fused DDPM loop stays on one thread: a worker
 * round trip (posting weights and noise, waking a thread) costs about a millisecond, which only
 * pays once each thread has several milliseconds of arithmetic (≈ 12 G multiply-adds/s per core).
 */
export const DDPM_THREADS_MIN_WORK = 100e6;

/**
 * Threads for the fused DDPM loop: two (both cores of the reference machine) when the batch has
 * work enough to pay for a worker round trip and a core is idle, else one. The samples are
 * bit-identical either way; only the time differs. Measured with `pnpm bench` (seed-sample) on the
 * 2-core machine: with a core free, two threads took 87.5 ms against 153 ms for one; with both
 * cores kept busy by other processes, 398 ms against 224 ms. So a second thread is used only when
 * the 1-minute load average leaves a core free — which also keeps `sweep --jobs 2` at one thread
 * per run.
 */
export function ddpmThreads(work: number, cores = availableParallelism(), load = loadavg()[0]): number {
  if (work < DDPM_THREADS_MIN_WORK || cores < 2) return 1;
  return load < cores - 0.5 ? 2 : 1;
}

/** What {@link chooseSamplingPath} decided; pass `model`, `loop` and `steps` to generateSamples. */
export interface SamplingPath {
  /** `tfjs`, `fused:wasm-simd-mlp` (fused forward in the sampler's loop) or `fused:wasm-simd-mlp-ddpm` (the whole loop fused). */
  path: string;
  /** What the sampler evaluates: the model, or its fused stand-in. */
  model: Pick<DenoiserModel, 'predict'>;
  /** The whole-loop replacement, when the sampler declares a loop the kernels run. */
  loop?: SamplingLoop;
  /** The step count the loop takes (T), when `loop` is set. */
  steps?: number;
  /** Threads the fused DDPM loop uses. */
  threads?: number;
  /** Why the fused path was not taken (absent when it was). */
  declined?: string;
  /** Frees the fused weight snapshot (no tensors are held). */
  dispose(): void;
}

/** Inputs to {@link chooseSamplingPath}: the resolved config's parts that matter. */
export interface SamplingPathParams {
  model: DenoiserModel;
  /** The active tfjs backend. */
  backend: string;
  /** `training.accelerate`: one switch for every fused path. */
  accelerate: boolean;
  /** The run's sampler, asked what loop it runs (its `describeLoop`); never identified by name. */
  sampler: Pick<Sampler, 'describeLoop'>;
  schedule: NoiseSchedule;
  predictionType: PredictionType;
  /** Samples per sampler call (sizes the thread decision). */
  batch: number;
  /** Threads for the fused DDPM loop; default: {@link ddpmThreads}. */
  threads?: number;
  /** The model is combined with an autoguidance guide at each step, so only the forward pass may be fused, not the whole loop. */
  guided?: boolean;
}

/** Picks the sampling path for a run (see the module comment); never throws for an unsupported model. */
export function chooseSamplingPath(p: SamplingPathParams): SamplingPath {
  const tfjs = (declined: string): SamplingPath => ({ path: 'tfjs', model: p.model, declined, dispose: () => {} });
  if (!p.accelerate) return tfjs('training.accelerate is false');
  if (p.backend !== 'wasm') return tfjs(`the fused sampling path runs with backend wasm; this run uses ${p.backend}, which stays the reference`);
  // Plain MLPs (seed-mlp), the residual `mlp` and the U-Net all have a fused forward pass (the U-Net's:
  // 35.8 against tfjs-wasm's 50.4 ms for 100 14×14 images at channels 16, 119 against 160 ms at 32).
  const fused = createFusedPredictModel(p.model, { residual: true, unet: true });
  if (typeof fused === 'string') return tfjs(fused);
  const forward: SamplingPath = { path: fused.path, model: fused, dispose: () => fused.dispose() };
  // A conditional model samples through the fused forward pass with its labels (guidance's batched
  // call included); the whole-loop kernel takes no labels, so it is not asked. Nor is it for an
  // autoguided model, whose every step also evaluates the guide.
  const declared = p.model.labelNames || p.guided ? null : (p.sampler.describeLoop?.(p.schedule) ?? null);
  if (!declared) return forward;
  const work = p.batch * declared.timesteps.length * p.model.parameterCount;
  const threads = p.threads ?? ddpmThreads(work);
  // The kernels say whether they run the declared loop for this model; if not, the sampler's own loop runs.
  const whole = fusedDdpmLoop({ model: p.model, loop: declared, schedule: p.schedule, predictionType: p.predictionType, threads });
  if (typeof whole === 'string') return forward;
  return { path: FUSED_DDPM_PATH, model: fused, loop: whole.run, steps: whole.steps, threads, dispose: () => fused.dispose() };
}
