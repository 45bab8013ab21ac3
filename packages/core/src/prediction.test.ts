import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { assertPredictionType, type PredictionType, toEpsilonAndX0, trainingTarget } from './prediction.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('prediction types', () => {
  const x0 = [0.7, -1.3, 2.0];
  const eps = [0.1, 0.5, -0.9];
  const ab = 0.37;
  const sa = Math.sqrt(ab);
  const sb = Math.sqrt(1 - ab);
  const xt = x0.map((x, i) => sa * x + sb * eps[i]);

  for (const type of ['epsilon', 'sample', 'v'] as PredictionType[]) {
    it(`recovers ε and x₀ exactly from a perfect ${type} prediction`, () => {
      const target = x0.map((x, i) => trainingTarget(type, x, eps[i], sa, sb));
      const before = tf.memory().numTensors;
      const got = tf.tidy(() => {
        const r = toEpsilonAndX0(type, tf.tensor1d(target), tf.tensor1d(xt), ab);
        return [Array.from(r.eps.dataSync()), Array.from(r.x0.dataSync())];
      });
      expect(tf.memory().numTensors).toBe(before);
      got[0].forEach((v, i) => expect(v).toBeCloseTo(eps[i], 5));
      got[1].forEach((v, i) => expect(v).toBeCloseTo(x0[i], 5));
    });
  }

  it('v is √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans & Ho 2022)', () => {
    expect(trainingTarget('v', 2, 1, 0.6, 0.8)).toBeCloseTo(0.6 - 1.6, 12);
  });

  it('rejects unknown prediction types with the valid choices', () => {
    expect(() => assertPredictionType('noise')).toThrow(ConfigError);
    expect(() => assertPredictionType('noise')).toThrow(/epsilon, sample, v/);
  });
});
