import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseOptions } from './options.js';
import { trainingLength } from './train.js';
import { trainingSchema } from './training-config.js';

describe('trainingSchema: the one home of the training defaults', () => {
  it('fills every default, matching PyTorch Adam (β₁ 0.9, β₂ 0.999, ε 1e-8) and the reference tutorial', () => {
    expect(trainingSchema.parse({})).toEqual({
      epochs: 100,
      batchSize: 32,
      learningRate: 1e-3,
      optimizer: 'adam',
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: 0.01,
      lrSchedule: 'constant',
      warmupSteps: 0,
      minLearningRate: 0,
      emaWarmup: true,
      lossWeighting: 'none',
      minSnrGamma: 5,
      predictionType: 'epsilon',
      objective: 'ddpm',
      flowTimeSampling: 'uniform',
      flowCoupling: 'independent',
      logEvery: 100,
      accelerate: true,
      threads: 1,
    });
  });

  it("takes training.threads as a positive integer or 'auto', and nothing else", () => {
    expect(trainingSchema.parse({ threads: 2 }).threads).toBe(2);
    expect(trainingSchema.parse({ threads: 'auto' }).threads).toBe('auto');
    for (const bad of [0, 1.5, -1, 'many']) expect(() => parseOptions(trainingSchema, { threads: bad }, 'training')).toThrow(/training\.threads/);
  });

  it('gives the default epochs only when neither epochs nor steps is set, so the length is stated once', () => {
    expect(trainingSchema.parse({ steps: 500 }).epochs).toBeUndefined();
    expect(trainingSchema.parse({ epochs: 7 }).epochs).toBe(7);
    // 1000 rows in batches of 32 = 32 steps an epoch
    expect(trainingLength(1000, trainingSchema.parse({}))).toEqual({ steps: 3200, epochs: 100 });
    expect(trainingLength(1000, trainingSchema.parse({ steps: 500 }))).toEqual({ steps: 500, epochs: 16 });
  });

  it('refuses bad values and unknown keys with the key path and, for typos, the closest key', () => {
    expect(() => parseOptions(trainingSchema, { batchSize: 0 }, 'training')).toThrow(ConfigError);
    expect(() => parseOptions(trainingSchema, { batchSize: 0 }, 'training')).toThrow(/training\.batchSize/);
    expect(() => parseOptions(trainingSchema, { beta2: 1 }, 'training')).toThrow(/training\.beta2/);
    expect(() => parseOptions(trainingSchema, { learningrate: 0.1 }, 'training')).toThrow(/training\.learningrate.*learningRate/s);
  });
});
