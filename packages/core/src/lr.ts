/**
 * Learning-rate schedules: linear warm-up (Goyal et al. 2017) followed by a constant rate or a
 * cosine decay (Loshchilov & Hutter 2017, SGDR eq. 5 without restarts).
 */

import type { TrainConfig } from './training-config.js';

/** The `training` keys that shape the learning rate over steps (defaults from `trainingSchema`). */
export type LrScheduleConfig = Pick<TrainConfig, 'learningRate' | 'lrSchedule' | 'warmupSteps' | 'minLearningRate'>;

/** The learning rate for 0-based optimiser step `step` of `totalSteps`. */
export function learningRateAt(c: LrScheduleConfig, step: number, totalSteps: number): number {
  const warm = c.warmupSteps;
  if (warm > 0 && step < warm) return (c.learningRate * (step + 1)) / warm;
  if (c.lrSchedule === 'constant') return c.learningRate;
  const min = c.minLearningRate;
  const span = Math.max(1, totalSteps - 1 - warm);
  const progress = Math.min(1, Math.max(0, (step - warm) / span));
  return min + 0.5 * (c.learningRate - min) * (1 + Math.cos(Math.PI * progress));
}
