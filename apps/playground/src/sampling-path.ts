/**
 * Which sampling path the page takes: the same choice the runner makes (apps/runner's
 * sampling-path.ts, which imports `node:os` and so cannot be bundled), so a checkpoint sampled here
 * and with `diffusionlab sample` runs the same kernels on the same noise. A model the kernels
 * describe samples through the fused forward pass inside the sampler's own loop, and through the
 * whole fused DDPM loop when the sampler declares one the kernels run (`Sampler.describeLoop`);
 * anything else samples on tfjs. The sampler is asked what it runs, never identified by name. The
 * page is always on one thread: the kernels run their loop on the calling thread outside Node, and
 * give the same samples for every thread count.
 */
import type { DenoiserModel, NoiseSchedule, PredictionType, Sampler, SamplingLoop } from '@diffusionlab/core';
import { createFusedPredictModel, FUSED_MLP_PATH, fusedDdpmLoop } from '@diffusionlab/kernels';

/** What {@link chooseSamplingPath} decided: pass `model`, `loop` and `steps` to generateSamples. */
export interface SamplingPath {
  /** `tfjs`, `fused:wasm-simd-mlp` or `fused:wasm-simd-mlp-ddpm`, as the runner's summary.json names them. */
  path: string;
  model: Pick<DenoiserModel, 'predict'>;
  loop?: SamplingLoop;
  steps?: number;
  /** Frees the fused weight snapshot. */
  dispose(): void;
}

/** Picks the page's sampling path (see the module comment); never throws for a model the kernels do not take. */
export function chooseSamplingPath(p: {
  model: DenoiserModel;
  sampler: Pick<Sampler, 'describeLoop'>;
  schedule: NoiseSchedule;
  predictionType: PredictionType;
  /** `training.accelerate`: one switch for every fused path, as in the runner. */
  accelerate: boolean;
}): SamplingPath {
  const tfjs: SamplingPath = { path: 'tfjs', model: p.model, dispose: () => {} };
  if (!p.accelerate) return tfjs;
  const fused = createFusedPredictModel(p.model, { residual: true });
  if (typeof fused === 'string') return tfjs;
  const forward: SamplingPath = { path: fused.path, model: fused, dispose: () => fused.dispose() };
  const declared = p.sampler.describeLoop?.(p.schedule) ?? null;
  if (!declared) return forward;
  const whole = fusedDdpmLoop({ model: p.model, loop: declared, schedule: p.schedule, predictionType: p.predictionType, threads: 1 });
  if (typeof whole === 'string') return forward;
  return { path: `${FUSED_MLP_PATH}-ddpm`, model: fused, loop: whole.run, steps: whole.steps, dispose: () => fused.dispose() };
}
