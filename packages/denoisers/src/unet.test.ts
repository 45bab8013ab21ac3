import '@tensorflow/tfjs-backend-cpu';
import { PluginError } from '@diffusionlab/core';
import {
  checkDenoiserGradients,
  checkLayersModelMatches,
  checkPredictNoLeak,
  checkSaveLoadIdentical,
  denoiserContext,
  denoiserInputs,
  predictValues,
  weightValues,
} from '@diffusionlab/testkit';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildUnet, conv2dSame, loadUnet, type UnetOptions, unetOptions, unetParameterCount, unetDenoiser } from './unet.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const T = 100;
const tiny = (o: Partial<UnetOptions> = {}): UnetOptions => unetOptions.parse({ channels: 2, channelMultipliers: [1, 2], timeEmbedding: 4, ...o });

describe('unet', () => {
  it('counts parameters by hand for a tiny two-level net', () => {
    // C = 2, time features 4C = 8. time 4·8+8 = 40; in conv 9·1·2+2 = 20;
    // down_0 RB(2→2) 38+18+38 = 94; down_1 RB(2→4) 76+36+148+12 = 272; mid RB(4→4) 148+36+148 = 332;
    // up_1 RB(8→4) 292+36+148+36 = 512; up_0 RB(6→2) 110+18+38+14 = 180; out conv 9·2·1+1 = 19.
    const m = buildUnet(tiny(), denoiserContext([4, 4, 1]));
    expect(m.parameterCount).toBe(1469);
    expect(unetParameterCount([4, 4, 1], tiny())).toBe(1469);
    m.dispose();
  });

  it('has the hand-computed size at the defaults for 14×14 digits', () => {
    // time 4224; in 320; down_0 22,624; down_1 65,792; mid 82,112; up_1 127,232; up_0 44,160; out 289.
    expect(unetParameterCount([14, 14, 1], unetOptions.parse({}))).toBe(346753);
  });

  for (const shape of [
    [4, 4, 1],
    [4, 8, 3],
  ]) {
    it(`keeps the shape, gives every variable a gradient, and does not leak ([${shape}])`, () => {
      const before = tf.memory().numTensors;
      const m = buildUnet(tiny({ activation: 'gelu' }), denoiserContext(shape, 2));
      const { x, t } = denoiserInputs(shape, 3, T);
      expect(predictValues(m, shape, x, t).shape).toEqual([3, ...shape]);
      checkDenoiserGradients(m, shape, 3, T);
      checkPredictNoLeak(m, shape, 2, T);
      m.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('is deterministic per seed and differs across seeds', () => {
    const a = buildUnet(tiny(), denoiserContext([4, 4, 1], 42));
    const b = buildUnet(tiny(), denoiserContext([4, 4, 1], 42));
    const c = buildUnet(tiny(), denoiserContext([4, 4, 1], 43));
    expect(weightValues(a)).toEqual(weightValues(b));
    expect(weightValues(a)).not.toEqual(weightValues(c));
    for (const m of [a, b, c]) m.dispose();
  });

  it('depends on t (the time embedding reaches the output)', () => {
    const m = buildUnet(tiny(), denoiserContext([4, 4, 1], 3));
    const { x } = denoiserInputs([4, 4, 1], 1, T);
    const a = predictValues(m, [4, 4, 1], x, Float32Array.from([5])).values;
    const b = predictValues(m, [4, 4, 1], x, Float32Array.from([80])).values;
    expect(a).not.toEqual(b);
    m.dispose();
  });

  it('saves a LayersModel that tf.loadLayersModel runs to the same output, and round-trips bitwise', async () => {
    const before = tf.memory().numTensors;
    const shape = [8, 8, 1];
    const ctx = denoiserContext(shape, 4);
    const m = buildUnet(tiny({ channelMultipliers: [1, 2, 2], blocksPerLevel: 2 }), ctx);
    await checkLayersModelMatches(m, shape, 3, T);
    await checkSaveLoadIdentical(m, (a) => loadUnet(a, ctx), shape, 3, T);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('explains shapes it cannot handle', () => {
    expect(() => buildUnet(tiny(), denoiserContext([16]))).toThrow(/\[H, W, C\]/);
    expect(() => buildUnet(tiny(), denoiserContext([5, 4, 1]))).toThrow(PluginError);
    expect(() => buildUnet(tiny({ channelMultipliers: [1, 1, 1] }), denoiserContext([6, 6, 1]))).toThrow(/which 4 does not divide/);
  });

  for (const [k, cin, cout, h, w] of [
    [3, 3, 5, 6, 4],
    [1, 4, 2, 5, 5],
  ]) {
    it(`conv2dSame has tfjs conv2d's value and gradients (${k}×${k}, ${cin}→${cout}, ${h}×${w})`, () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const x = tf.randomNormal([3, h, w, cin], 0, 1, 'float32', 1) as tf.Tensor4D;
        const kernel = tf.randomNormal([k, k, cin, cout], 0, 1, 'float32', 2) as tf.Tensor4D;
        const g = tf.randomNormal([3, h, w, cout], 0, 1, 'float32', 3);
        const loss = (f: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), g));
        const native = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, 1, 'same');
        expect(tf.max(tf.abs(tf.sub(conv2dSame(x, kernel), native(x, kernel)))).dataSync()[0]).toBe(0);
        const ours = tf.grads(loss(conv2dSame))([x, kernel]);
        const ref = tf.grads(loss(native))([x, kernel]);
        for (let i = 0; i < 2; i++) {
          expect(ours[i].shape).toEqual(ref[i].shape);
          const scale = tf.max(tf.abs(ref[i])).dataSync()[0];
          expect(tf.max(tf.abs(tf.sub(ours[i], ref[i]))).dataSync()[0]).toBeLessThan(1e-5 * scale);
        }
      });
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('plugin: defaults and validation', () => {
    expect(unetDenoiser.options.parse({})).toEqual({ channels: 32, channelMultipliers: [1, 2], blocksPerLevel: 1, timeEmbedding: 32, activation: 'silu' });
    expect(unetDenoiser.options.safeParse({ channelMultipliers: [] }).success).toBe(false);
    expect(unetDenoiser.options.safeParse({ blocks: 2 }).success).toBe(false);
  });
});
