import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerDenoiserLayers } from './embeddings.js';
import { GROUP_NORM_EPSILON, GroupNormLayer, groupNorm } from './group-norm.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Wu & He 2018, eq. 1–4, by plain loops over x [n, H, W, C] in float64: per example and group, mean and biased variance over (H, W, C/G). */
function referenceGroupNorm(x: Float32Array, [n, H, W, C]: number[], gamma: Float32Array, beta: Float32Array, G: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  const cg = C / G;
  const at = (b: number, h: number, w: number, c: number) => ((b * H + h) * W + w) * C + c;
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < G; g++) {
      let sum = 0;
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = g * cg; c < (g + 1) * cg; c++) sum += x[at(b, h, w, c)];
      const mean = sum / (H * W * cg);
      let sq = 0;
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = g * cg; c < (g + 1) * cg; c++) sq += (x[at(b, h, w, c)] - mean) ** 2;
      const inv = 1 / Math.sqrt(sq / (H * W * cg) + eps);
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) for (let c = g * cg; c < (g + 1) * cg; c++) out[at(b, h, w, c)] = gamma[c] * (x[at(b, h, w, c)] - mean) * inv + beta[c];
    }
  }
  return out;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('groupNorm', () => {
  for (const [shape, G] of [
    [[2, 3, 4, 6], 3],
    [[3, 2, 5, 4], 1],
    [[1, 4, 4, 8], 8],
  ] as [number[], number][]) {
    it(`matches the per-group loop formula ([${shape}], ${G} groups)`, () => {
      const before = tf.memory().numTensors;
      const rng = new Rng(G);
      const size = shape.reduce((a, b) => a * b, 1);
      // Offsets and scales per channel, so a wrong grouping (or normalising per channel) changes the result.
      const x = Float32Array.from(rng.normalArray(size), (v, i) => 3 * v * (1 + (i % shape[3])) + (i % shape[3]));
      const gamma = Float32Array.from(rng.normalArray(shape[3]), (v) => 1 + 0.5 * v);
      const beta = rng.normalArray(shape[3]);
      const got = tf.tidy(() => groupNorm(tf.tensor(x, shape), tf.tensor1d(gamma), tf.tensor1d(beta), G).dataSync());
      const want = referenceGroupNorm(x, shape, gamma, beta, G, GROUP_NORM_EPSILON);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('has gradients that agree with central differences of the loop formula', () => {
    const shape = [2, 2, 3, 4];
    const G = 2;
    const rng = new Rng(5);
    const x = rng.normalArray(48);
    const gamma = Float32Array.from(rng.normalArray(4), (v) => 1 + 0.3 * v);
    const beta = rng.normalArray(4);
    const weights = rng.normalArray(48);
    const loss = (xs: Float32Array, gs: Float32Array) => referenceGroupNorm(xs, shape, gs, beta, G, GROUP_NORM_EPSILON).reduce((s, v, i) => s + v * weights[i], 0);
    const [dx, dg] = tf.tidy(() => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(groupNorm(a, b, tf.tensor1d(beta), G), tf.tensor(weights, shape))));
      return g([tf.tensor(x, shape), tf.tensor1d(gamma)]).map((t) => t.dataSync());
    });
    const h = 1e-3;
    for (const i of [0, 5, 11, 23, 30, 47]) {
      const p = Float32Array.from(x);
      const m = Float32Array.from(x);
      p[i] += h;
      m[i] -= h;
      expect(dx[i]).toBeCloseTo((loss(p, gamma) - loss(m, gamma)) / (2 * h), 2);
    }
    for (let c = 0; c < 4; c++) {
      const p = Float32Array.from(gamma);
      const m = Float32Array.from(gamma);
      p[c] += h;
      m[c] -= h;
      expect(dg[c]).toBeCloseTo((loss(x, p) - loss(x, m)) / (2 * h), 2);
    }
  });

  it('saves and loads as a layer with its groups, γ and β, computing the same values bitwise', async () => {
    registerDenoiserLayers();
    const before = tf.memory().numTensors;
    const input = tfl.input({ shape: [3, 3, 4] });
    const model = tfl.model({ inputs: input, outputs: new GroupNormLayer({ name: 'gn', groups: 2 }).apply(input) as tfl.SymbolicTensor });
    expect(model.weights.map((w) => [w.originalName, w.shape])).toEqual([
      ['gn/gamma', [4]],
      ['gn/beta', [4]],
    ]);
    const values = [tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([0.5, -0.5, 1, 0])];
    model.setWeights(values);
    tf.dispose(values);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
    const x = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 3);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect((loaded.layers[1] as GroupNormLayer).groups).toBe(2);
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
