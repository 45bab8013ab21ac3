/**
 * One training batch prepared on the CPU from the seeded {@link Rng}: the forward process
 * xₜ = √ᾱₜ·x₀ + √(1−ᾱₜ)·ε (DDPM eq. 4) and the target the prediction type asks for. Every training
 * path trains on these arrays, so the tfjs and fused paths see the exact same draws.
 */
import { type LossWeighting, minSnrWeight } from './loss-weighting.js';
import { type PredictionType, trainingTarget } from './prediction.js';
import type { Rng } from './rng.js';
import type { NoiseSchedule } from './schedule.js';
import type { TrainBatch } from './training-path.js';

/** One CPU-prepared batch: inputs, target and (for weighted losses) per-row weights. */
export type PreparedBatch = TrainBatch;

/**
 * Fills xₜ = √ᾱₜ·x₀ + √(1−ᾱₜ)·ε (DDPM eq. 4) and the training target for the given rows of `x0`;
 * with a `weighting` other than `none`, also each row's Min-SNR weight (Hang et al. 2023).
 * Exported for tests and for fused training paths that share the exact same draws.
 */
export function makeTrainingBatch(
  x0: Float32Array,
  rows: ArrayLike<number>,
  rowSize: number,
  schedule: NoiseSchedule,
  predictionType: PredictionType,
  rng: Rng,
  weighting?: { kind: LossWeighting; gamma: number },
): TrainBatch {
  const b = rows.length;
  const T = schedule.numTrainTimesteps;
  const xt = new Float32Array(b * rowSize);
  const target = new Float32Array(b * rowSize);
  const t = new Float32Array(b);
  const gamma = weighting && weighting.kind !== 'none' ? weighting.gamma : null;
  const weight = gamma === null ? undefined : new Float32Array(b);
  for (let i = 0; i < b; i++) {
    const ti = rng.int(T);
    t[i] = ti;
    const ab = schedule.alphasCumprod[ti];
    const sa = Math.sqrt(ab);
    const sb = Math.sqrt(1 - ab);
    if (weight) weight[i] = minSnrWeight(ab, gamma as number, predictionType);
    const base = rows[i] * rowSize;
    for (let j = 0; j < rowSize; j++) {
      const x = x0[base + j];
      const e = rng.normal();
      xt[i * rowSize + j] = sa * x + sb * e;
      target[i * rowSize + j] = trainingTarget(predictionType, x, e, sa, sb);
    }
  }
  return { xt, t, target, weight, size: b };
}
