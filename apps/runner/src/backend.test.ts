import { Rng, scheduleFromBetas } from '@diffusionlab/core';
import { buildSeedMlp } from '@diffusionlab/denoisers';
import { installMatMulGradientFix, matMulGradConfig, matMulGradientFixInstalled, uninstallMatMulGradientFix } from '@diffusionlab/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupBackend } from './backend.js';

const schedule = scheduleFromBetas(
  'linear',
  Float64Array.from({ length: 100 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 99),
);

/** ∂L/∂θ for one batch-32 step of the seed MLP (L = MSE against a fixed target), per variable. */
function stepGradients(): Float32Array[] {
  const model = buildSeedMlp({ hidden: 128 }, { dataShape: [1], schedule, predictionType: 'epsilon', rng: new Rng(5) });
  const rng = new Rng(6);
  const grads = tf.tidy(() => {
    const xt = tf.tensor2d(rng.normalArray(32), [32, 1]);
    const t = tf.tensor1d(Float32Array.from({ length: 32 }, () => rng.int(100)));
    const target = tf.tensor2d(rng.normalArray(32), [32, 1]);
    const { grads: g } = tf.variableGrads(() => tf.mean(tf.squaredDifference(model.predict(xt, t), target)) as tf.Scalar, model.variables as tf.Variable[]);
    return model.variables.map((v) => g[v.name].dataSync().slice() as Float32Array);
  });
  model.dispose();
  return grads;
}

describe('the matMul gradient fix follows the backend', () => {
  it('is installed on wasm, and one step of the seed MLP gets the same gradients as with tfjs’s own (within 1e-5)', async () => {
    const info = await setupBackend('wasm');
    expect(info.matMulGradientFix).toBe(true);
    expect(matMulGradientFixInstalled()).toBe(true);
    expect(tf.getGradient('BatchMatMul')).toBe(matMulGradConfig);
    const before = tf.memory().numTensors;
    const fixed = stepGradients();
    uninstallMatMulGradientFix();
    expect(tf.getGradient('BatchMatMul')).not.toBe(matMulGradConfig);
    const plain = stepGradients();
    installMatMulGradientFix();
    expect(tf.memory().numTensors).toBe(before);
    expect(fixed).toHaveLength(6);
    for (const [i, g] of fixed.entries()) {
      let diff = 0;
      let scale = 0;
      for (let j = 0; j < g.length; j++) {
        diff = Math.max(diff, Math.abs(g[j] - plain[i][j]));
        scale = Math.max(scale, Math.abs(plain[i][j]));
      }
      expect(scale).toBeGreaterThan(0);
      expect(diff / scale).toBeLessThan(1e-5);
    }
  });

  it('is removed again on cpu, which keeps tfjs’s own gradient as the reference', async () => {
    await setupBackend('wasm');
    expect(matMulGradientFixInstalled()).toBe(true);
    const info = await setupBackend('cpu');
    expect(info.matMulGradientFix).toBe(false);
    expect(matMulGradientFixInstalled()).toBe(false);
    expect(tf.getGradient('BatchMatMul')).toBeDefined();
    expect(tf.getGradient('BatchMatMul')).not.toBe(matMulGradConfig);
  });
});

describe('the upsampling gradient on cpu', () => {
  it('sums each input pixel’s own 2×2 output block for every image of the batch (tfjs-backend-cpu 4.22 reads image 0’s rows)', async () => {
    await setupBackend('cpu');
    const x = tf.zeros([2, 2, 2, 1]);
    const dy = tf.tensor4d(
      Float32Array.from({ length: 32 }, (_, i) => i),
      [2, 4, 4, 1],
    );
    const g = tf.grad((a: tf.Tensor) => tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [4, 4]))(x, dy);
    const got = g.dataSync();
    // Independent: image b, pixel (i, j) collects dy[b, 2i..2i+1, 2j..2j+1], dy[b, r, c] = 16b + 4r + c.
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++) {
          let want = 0;
          for (const r of [2 * i, 2 * i + 1]) for (const c of [2 * j, 2 * j + 1]) want += 16 * b + 4 * r + c;
          expect(got[b * 4 + i * 2 + j]).toBe(want);
        }
    tf.dispose([x, dy, g]);
  });
});
