import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { PixelAttentionLayer, pixelAttention } from './attention.js';
import { registerDenoiserLayers } from './embeddings.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Vaswani et al. 2017, eq. 1, per example and head by plain loops in float64: pixels are tokens;
 * qkv [n, H, W, 3C] holds Q | K | V, head h owns channels h·d … (h+1)·d − 1 of each.
 */
function referenceAttention(qkv: Float32Array, [n, H, W, C3]: number[], heads: number): Float64Array {
  const C = C3 / 3;
  const d = C / heads;
  const L = H * W;
  const out = new Float64Array(n * L * C);
  const get = (b: number, i: number, part: number, c: number) => qkv[(b * L + i) * C3 + part * C + c];
  for (let b = 0; b < n; b++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < L; i++) {
        const logits = new Float64Array(L);
        for (let j = 0; j < L; j++) {
          let dot = 0;
          for (let c = h * d; c < (h + 1) * d; c++) dot += get(b, i, 0, c) * get(b, j, 1, c);
          logits[j] = dot / Math.sqrt(d);
        }
        const max = Math.max(...logits);
        const w = logits.map((v) => Math.exp(v - max));
        const z = w.reduce((s, v) => s + v, 0);
        for (let c = h * d; c < (h + 1) * d; c++) {
          let acc = 0;
          for (let j = 0; j < L; j++) acc += (w[j] / z) * get(b, j, 2, c);
          out[(b * L + i) * C + c] = acc;
        }
      }
  return out;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('pixelAttention', () => {
  for (const [shape, heads] of [
    [[2, 2, 3, 6], 1],
    [[2, 3, 3, 12], 2],
    [[1, 2, 2, 24], 4],
  ] as [number[], number][]) {
    it(`matches softmax(QKᵀ/√d)V by loops ([${shape}], ${heads} head(s))`, () => {
      const before = tf.memory().numTensors;
      const rng = new Rng(heads);
      const size = shape.reduce((a, b) => a * b, 1);
      const qkv = Float32Array.from(rng.normalArray(size), (v) => 1.5 * v);
      const got = tf.tidy(() => pixelAttention(tf.tensor(qkv, shape), heads).dataSync());
      const want = referenceAttention(qkv, shape, heads);
      expect(got.length).toBe(want.length);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('with several heads is not the one-head formula (heads are really separate)', () => {
    const shape = [1, 2, 2, 12];
    const qkv = new Rng(9).normalArray(48);
    const two = tf.tidy(() => pixelAttention(tf.tensor(qkv, shape), 2).dataSync());
    expect(maxAbsDiff(two, referenceAttention(qkv, shape, 1))).toBeGreaterThan(1e-3);
  });

  it('has gradients that agree with central differences of the loop formula', () => {
    const shape = [1, 2, 2, 12];
    const rng = new Rng(4);
    const qkv = rng.normalArray(48);
    const weights = rng.normalArray(16);
    const loss = (q: Float32Array) => referenceAttention(q, shape, 2).reduce((s, v, i) => s + v * weights[i], 0);
    const g = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pixelAttention(a, 2), tf.tensor(weights, [1, 2, 2, 4]))))(tf.tensor(qkv, shape)).dataSync());
    const h = 1e-3;
    for (const i of [0, 3, 5, 16, 20, 33, 47]) {
      const p = Float32Array.from(qkv);
      const m = Float32Array.from(qkv);
      p[i] += h;
      m[i] -= h;
      expect(g[i]).toBeCloseTo((loss(p) - loss(m)) / (2 * h), 3);
    }
  });

  it('saves and loads as a layer with its head count, computing the same values bitwise', async () => {
    registerDenoiserLayers();
    const before = tf.memory().numTensors;
    const input = tfl.input({ shape: [2, 3, 12] });
    const out = new PixelAttentionLayer({ name: 'attend', heads: 2 }).apply(input) as tfl.SymbolicTensor;
    expect(out.shape).toEqual([null, 2, 3, 4]);
    const model = tfl.model({ inputs: input, outputs: out });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
    expect((loaded.layers[1] as PixelAttentionLayer).heads).toBe(2);
    const x = tf.randomNormal([3, 2, 3, 12], 0, 1, 'float32', 2);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
