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
 * q, k, v are [n, H, W, C] and head h owns channels h·d … (h+1)·d − 1 of each.
 */
function referenceAttention(q: Float32Array, k: Float32Array, v: Float32Array, [n, H, W, C]: number[], heads: number): Float64Array {
  const d = C / heads;
  const L = H * W;
  const out = new Float64Array(n * L * C);
  const at = (b: number, i: number, c: number) => (b * L + i) * C + c;
  for (let b = 0; b < n; b++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < L; i++) {
        const logits = new Float64Array(L);
        for (let j = 0; j < L; j++) {
          let dot = 0;
          for (let c = h * d; c < (h + 1) * d; c++) dot += q[at(b, i, c)] * k[at(b, j, c)];
          logits[j] = dot / Math.sqrt(d);
        }
        const max = Math.max(...logits);
        const w = logits.map((x) => Math.exp(x - max));
        const z = w.reduce((s, x) => s + x, 0);
        for (let c = h * d; c < (h + 1) * d; c++) {
          let acc = 0;
          for (let j = 0; j < L; j++) acc += (w[j] / z) * v[at(b, j, c)];
          out[at(b, i, c)] = acc;
        }
      }
  return out;
}

/** Three seeded arrays for q, k, v of `shape`, scaled so the softmax is neither flat nor one-hot. */
function qkvArrays(shape: number[], seed: number): [Float32Array, Float32Array, Float32Array] {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return [0, 1, 2].map(() => Float32Array.from(rng.normalArray(size), (x) => 1.5 * x)) as [Float32Array, Float32Array, Float32Array];
}

const attend = (arrays: Float32Array[], shape: number[], heads: number) =>
  tf.tidy(() => {
    const [q, k, v] = arrays.map((a) => tf.tensor(a, shape));
    return pixelAttention(q, k, v, heads).dataSync();
  });

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('pixelAttention', () => {
  for (const [shape, heads] of [
    [[2, 2, 3, 2], 1],
    [[2, 3, 3, 4], 2],
    [[1, 2, 2, 8], 4],
  ] as [number[], number][]) {
    it(`matches softmax(QKᵀ/√d)V by loops ([${shape}], ${heads} head(s))`, () => {
      const before = tf.memory().numTensors;
      const arrays = qkvArrays(shape, heads);
      const got = attend(arrays, shape, heads);
      const want = referenceAttention(...arrays, shape, heads);
      expect(got.length).toBe(want.length);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('with several heads is not the one-head formula (heads are really separate)', () => {
    const shape = [1, 2, 2, 4];
    const arrays = qkvArrays(shape, 9);
    expect(maxAbsDiff(attend(arrays, shape, 2), referenceAttention(...arrays, shape, 1))).toBeGreaterThan(1e-3);
  });

  it('has gradients in q, k and v that agree with central differences of the loop formula', () => {
    const shape = [1, 2, 2, 4];
    const arrays = qkvArrays(shape, 4);
    const weights = new Rng(5).normalArray(16);
    const loss = (a: Float32Array[]) => referenceAttention(a[0], a[1], a[2], shape, 2).reduce((s, x, i) => s + x * weights[i], 0);
    const grads = tf.tidy(() =>
      tf
        .grads((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(pixelAttention(q, k, v, 2), tf.tensor(weights, shape))))(arrays.map((a) => tf.tensor(a, shape)))
        .map((g) => g.dataSync()),
    );
    const h = 1e-3;
    for (let which = 0; which < 3; which++) {
      for (const i of [0, 3, 6, 10, 15]) {
        const p = arrays.map((a) => Float32Array.from(a));
        const m = arrays.map((a) => Float32Array.from(a));
        p[which][i] += h;
        m[which][i] -= h;
        expect(grads[which][i]).toBeCloseTo((loss(p) - loss(m)) / (2 * h), 3);
      }
    }
  });

  it('saves and loads as a layer with its head count, computing the same values bitwise', async () => {
    registerDenoiserLayers();
    const before = tf.memory().numTensors;
    const inputs = ['q', 'k', 'v'].map((name) => tfl.input({ shape: [2, 3, 4], name }));
    const out = new PixelAttentionLayer({ name: 'attend', heads: 2 }).apply(inputs) as tfl.SymbolicTensor;
    expect(out.shape).toEqual([null, 2, 3, 4]);
    const model = tfl.model({ inputs, outputs: out });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
    expect((loaded.layers[3] as PixelAttentionLayer).heads).toBe(2);
    const x = [1, 2, 3].map((seed) => tf.randomNormal([3, 2, 3, 4], 0, 1, 'float32', seed));
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([...x, a, b]);
    model.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
