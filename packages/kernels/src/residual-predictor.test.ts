import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ResidualMlpDescription, Rng } from '@diffusionlab/core';
import { createFusedPredictModel, FUSED_MLP_PATH, type FusedPredictModel } from './fused-model.js';
import { createFusedResidualMlpPredictor } from './residual-predictor.js';
import { asResidualModel, makeResidual, type ResidualOptions } from './test/residual-fixture.js';
import { relErr } from './test/compare.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** max |a − b| / max(1, max |b|). */
function fused(model: Parameters<typeof createFusedPredictModel>[0]): FusedPredictModel {
  const f = createFusedPredictModel(model, { residual: true });
  if (typeof f === 'string') throw new Error(f);
  return f;
}

describe('fused residual MLP predict', () => {
  const cases: ResidualOptions[] = [
    { activation: 'silu', dataDim: 2, width: 32, depth: 3, timeEmbedding: 16, numTrainTimesteps: 1000, inputEmbedding: 0 },
    { activation: 'gelu', dataDim: 1, width: 20, depth: 1, timeEmbedding: 8, numTrainTimesteps: 100, inputEmbedding: 3 },
    { activation: 'relu', dataDim: 3, width: 9, depth: 2, timeEmbedding: 6, numTrainTimesteps: 50, inputEmbedding: 1 },
    { activation: 'tanh', dataDim: 2, width: 16, depth: 2, timeEmbedding: 4, numTrainTimesteps: 1000, inputEmbedding: 0 },
  ];
  for (const o of cases) {
    it(`matches model.predict: ${o.activation}, depth ${o.depth}, D=${o.dataDim}, F=${o.inputEmbedding}; one t, per-row t, fractional t; no leaks`, () => {
      const model = asResidualModel(makeResidual(o, 8));
      const f = fused(model);
      expect(f.path).toBe(FUSED_MLP_PATH);
      const rng = new Rng(4);
      const n = 150; // more than one 64-row tile
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const x = tf.tensor2d(rng.normalArray(n * o.dataDim), [n, o.dataDim]);
        const T = o.numTrainTimesteps;
        for (const t of [tf.fill([n], T - 1), tf.fill([n], 0), tf.tensor1d(Float32Array.from({ length: n }, (_, i) => (i * 7) % T)), tf.fill([n], 12.5)]) {
          const got = f.predict(x, t);
          expect(got.shape).toEqual([n, o.dataDim]);
          expect(relErr(got.dataSync(), model.predict(x, t).dataSync())).toBeLessThan(1e-5);
        }
      });
      expect(tf.memory().numTensors).toBe(before);
      f.dispose();
      model.dispose();
    });
  }

  it('keeps a weight snapshot until refresh(); declines without the opt-in or a description', () => {
    const o = cases[0];
    const model = asResidualModel(makeResidual(o, 3));
    expect(createFusedPredictModel(model)).toMatch(/not a plain MLP/);
    const undescribed = asResidualModel(makeResidual(o, 3), false);
    expect(createFusedPredictModel(undescribed, { residual: true })).toMatch(/nor a residual MLP/);
    undescribed.dispose();
    expect(createFusedResidualMlpPredictor({ ...(model.describe!() as ResidualMlpDescription), width: 31 })).toMatch(/layer 0 has kernel/);
    const f = fused(model);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.tensor2d([0.5, -1, 2, 0.25], [2, 2]);
      const t = tf.fill([2], 300);
      const first = f.predict(x, t).dataSync().slice();
      const v = model.variables[model.variables.length - 1];
      v.assign(tf.add(v, 1));
      expect(Array.from(f.predict(x, t).dataSync())).toEqual(Array.from(first));
      f.refresh();
      expect(relErr(f.predict(x, t).dataSync(), model.predict(x, t).dataSync())).toBeLessThan(1e-5);
      f.dispose();
      expect(() => f.predict(x, t)).toThrow(/dispose/);
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
