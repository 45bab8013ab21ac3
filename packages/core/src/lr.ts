/**
 * Learning-rate schedules: linear warm-up (Goyal et al. 2017) followed by a constant rate or a
 * cosine decay (Loshchilov & Hutter 2017, SGDR eq. 5 without restarts).
 */

/** The `training` keys that shape the learning rate over steps. */
export interface LrScheduleConfig {
  learningRate: number;
  lrSchedule?: 'constant' | 'cosine';
  /** Steps of linear warm-up from 0 to `learningRate`. */
  warmupSteps?: number;
  /** Floor of the cosine decay. */
  minLearningRate?: number;
}

/** The learning rate for 0-based optimiser step `step` of `totalSteps`. */
export function learningRateAt(c: LrScheduleConfig, step: number, totalSteps: number): number {
  const warm = c.warmupSteps ?? 0;
  if (warm > 0 && step < warm) return (c.learningRate * (step + 1)) / warm;
  if ((c.lrSchedule ?? 'constant') === 'constant') return c.learningRate;
  const min = c.minLearningRate ?? 0;
  const span = Math.max(1, totalSteps - 1 - warm);
  const progress = Math.min(1, Math.max(0, (step - warm) / span));
  return min + 0.5 * (c.learningRate - min) * (1 + Math.cos(Math.PI * progress));
}
