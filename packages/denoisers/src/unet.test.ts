import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { filesToArtifacts, PluginError } from '@diffusionlab/core';
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

  it('counts GroupNorm (2 per channel) and attention (qkv + proj 1×1 convs) parameters by hand', () => {
    // GroupNorm inputs: down_0 2+2, down_1 2+4, mid 4+4, up_1 8+4, up_0 6+2, out 2 = 40 channels → 80.
    expect(unetParameterCount([4, 4, 1], tiny({ norm: 'group', groups: 2 }))).toBe(1469 + 80);
    // Attention at 2×2 (4 channels) after down_1_0, mid and up_1_0: q, k, v and proj 1×1 convs, 4·4+4 = 20 each.
    expect(unetParameterCount([4, 4, 1], tiny({ attention: true }))).toBe(1469 + 3 * 80);
    // Both: each attention block also normalises its 4 channels (8 more each).
    const both = tiny({ norm: 'group', groups: 2, attention: true, attentionHeads: 2 });
    expect(unetParameterCount([4, 4, 1], both)).toBe(1469 + 80 + 3 * (80 + 8));
    const m = buildUnet(both, denoiserContext([4, 4, 1]));
    expect(m.parameterCount).toBe(1469 + 80 + 3 * (80 + 8));
    expect(m.architecture).toMatch(/GroupNorm \(2 groups\), 2-head self-attention at 2×2$/);
    m.dispose();
  });

  it('loads a checkpoint written before norm and attention existed, and predicts what it predicted then', () => {
    // Written by the unet of main at eac89af (no norm/attention options): channels 2, [1, 2],
    // timeEmbedding 4, seed 11, T = 100; expected.json holds its inputs and its cpu-backend outputs.
    const dir = new URL('./fixtures/unet-v1/', import.meta.url);
    const artifacts = filesToArtifacts({ modelJson: readFileSync(new URL('model.json', dir), 'utf8'), weightsBin: readFileSync(new URL('weights.bin', dir)) });
    const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as { shape: number[]; T: number; x: number[]; t: number[]; output: number[] };
    expect((artifacts.userDefinedMetadata as { diffusionlab: { options: object } }).diffusionlab.options).not.toHaveProperty('norm');
    const before = tf.memory().numTensors;
    const ctx = denoiserContext(expected.shape, 11, 'epsilon', expected.T);
    const loaded = loadUnet(artifacts, ctx);
    const x = Float32Array.from(expected.x);
    const t = Float32Array.from(expected.t);
    expect(Array.from(predictValues(loaded, expected.shape, x, t).values)).toEqual(Array.from(Float32Array.from(expected.output)));
    // Today's defaults build the same weights from the same seed, so old configs reproduce bit for bit.
    const fresh = buildUnet(tiny(), ctx);
    expect(weightValues(fresh)).toEqual(weightValues(loaded));
    expect(Array.from(predictValues(fresh, expected.shape, x, t).values)).toEqual(Array.from(Float32Array.from(expected.output)));
    expect(fresh.architecture).not.toMatch(/GroupNorm|attention/);
    loaded.dispose();
    fresh.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('has the hand-computed size at the defaults for 14×14 digits', () => {
    // time 4224; in 320; down_0 22,624; down_1 65,792; mid 82,112; up_1 127,232; up_0 44,160; out 289.
    expect(unetParameterCount([14, 14, 1], unetOptions.parse({}))).toBe(346753);
  });

  for (const [shape, extra] of [
    [[4, 4, 1], {}],
    [[4, 8, 3], {}],
    [[4, 4, 1], { norm: 'group', groups: 2, attention: true }],
    [[8, 4, 2], { norm: 'group', groups: 1, attention: true, attentionHeads: 4, channelMultipliers: [1, 2, 2] }],
  ] as [number[], Partial<UnetOptions>][]) {
    it(`keeps the shape, gives every variable a gradient, and does not leak ([${shape}] ${JSON.stringify(extra)})`, () => {
      const before = tf.memory().numTensors;
      const m = buildUnet(tiny({ activation: 'gelu', ...extra }), denoiserContext(shape, 2));
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

  it('saves GroupNorm and attention as layers that tf.loadLayersModel runs to the same output, and round-trips bitwise', async () => {
    const before = tf.memory().numTensors;
    const shape = [8, 8, 1];
    const ctx = denoiserContext(shape, 5);
    const m = buildUnet(tiny({ channelMultipliers: [1, 2, 2], norm: 'group', groups: 2, attention: true, attentionHeads: 2 }), ctx);
    // Away from init: unit γ and zero β would hide a GroupNorm weight that the saved graph ignores.
    tf.tidy(() => {
      for (const v of m.variables) v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', v.size)));
    });
    await checkLayersModelMatches(m, shape, 3, T);
    await checkSaveLoadIdentical(m, (a) => loadUnet(a, ctx), shape, 3, T);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('explains norm groups and attention heads that do not divide the channels', () => {
    expect(() => buildUnet(tiny({ norm: 'group', groups: 4 }), denoiserContext([4, 4, 1]))).toThrow(/denoiser.groups = 4 does not divide the 2 channels/);
    expect(() => buildUnet(tiny({ norm: 'group', groups: 4 }), denoiserContext([4, 4, 1]))).toThrow(PluginError);
    expect(() => buildUnet(tiny({ attention: true, attentionHeads: 3 }), denoiserContext([4, 4, 1]))).toThrow(/attentionHeads = 3 does not divide the 4 channels/);
    // Heads only matter where attention runs.
    buildUnet(tiny({ attentionHeads: 3 }), denoiserContext([4, 4, 1])).dispose();
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
    expect(unetDenoiser.options.parse({})).toEqual({
      channels: 32,
      channelMultipliers: [1, 2],
      blocksPerLevel: 1,
      timeEmbedding: 32,
      activation: 'silu',
      norm: 'none',
      groups: 8,
      attention: false,
      attentionHeads: 1,
    });
    expect(unetDenoiser.options.safeParse({ norm: 'batch' }).success).toBe(false);
    expect(unetDenoiser.options.safeParse({ attentionHeads: 0 }).success).toBe(false);
    expect(unetDenoiser.options.safeParse({ channelMultipliers: [] }).success).toBe(false);
    expect(unetDenoiser.options.safeParse({ blocks: 2 }).success).toBe(false);
  });
});
