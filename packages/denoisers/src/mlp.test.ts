import '@tensorflow/tfjs-backend-cpu';
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
import { fourierFeatures, timeEmbedding } from './embeddings.js';
import { buildMlp, loadMlp, type MlpOptions, mlpOptions, mlpParameterCount, mlpDenoiser } from './mlp.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const T = 100;
const small = (o: Partial<MlpOptions> = {}): MlpOptions => mlpOptions.parse({ width: 8, depth: 2, timeEmbedding: 6, ...o });

describe('embeddings', () => {
  it('time embedding is [sin(sω), cos(sω)] with s = 1000·t/T, ω = 10000^(−i/half)', () => {
    const e = timeEmbedding(tf.tensor1d([50, 0]), 4, 100);
    expect(e.shape).toEqual([2, 4]);
    const v = e.dataSync();
    const ref = [Math.sin(500), Math.sin(5), Math.cos(500), Math.cos(5), 0, 0, 1, 1];
    ref.forEach((r, i) => expect(v[i]).toBeCloseTo(r, 4));
    e.dispose();
  });

  it('Fourier features are [x, sin(2ᵏx), cos(2ᵏx)]', () => {
    const f = fourierFeatures(tf.tensor2d([[0.5, -1]]), 2);
    expect(f.shape).toEqual([1, 10]);
    const ref = [0.5, -1, Math.sin(0.5), Math.sin(1), Math.sin(-1), Math.sin(-2), Math.cos(0.5), Math.cos(1), Math.cos(-1), Math.cos(-2)];
    const v = f.dataSync();
    ref.forEach((r, i) => expect(v[i]).toBeCloseTo(r, 6));
    f.dispose();
  });
});

describe('mlp', () => {
  it('counts parameters by the hand formula', () => {
    // D = 2, W = 4, depth 2, E = 6, F = 3: time 6·4+4 = 28; input 14·4+4 = 60; blocks 2·3·(16+4) = 120; out 4·2+2 = 10.
    const o = mlpOptions.parse({ width: 4, depth: 2, timeEmbedding: 6, inputEmbedding: 3 });
    const m = buildMlp(o, denoiserContext([2]));
    expect(m.parameterCount).toBe(218);
    expect(mlpParameterCount(2, o)).toBe(218);
    m.dispose();
    // Defaults for 1-D data: 64·128+128 + 128+128 + 3·3·(128²+128) + 128+1.
    const d = buildMlp(mlpOptions.parse({}), denoiserContext([1]));
    expect(d.parameterCount).toBe(8320 + 256 + 148608 + 129);
    d.dispose();
  });

  it('computes the documented forward pass (checked in float64)', () => {
    const o = small({ width: 3, depth: 1, timeEmbedding: 4, inputEmbedding: 1, activation: 'tanh' });
    const m = buildMlp(o, denoiserContext([2], 8));
    const W = Object.fromEntries(m.variables.map((v) => [v.name.replace(/^mlp(_\d+)?\//, ''), Array.from(v.dataSync())]));
    const lin = (x: number[], name: string, out: number) =>
      Array.from({ length: out }, (_, j) => x.reduce((s, xi, i) => s + xi * W[`${name}/kernel`][i * out + j], W[`${name}/bias`][j]));
    const ref = (x: number[], t: number) => {
      const s = (1000 * t) / T;
      const emb = [Math.sin(s), Math.sin(s / 100), Math.cos(s), Math.cos(s / 100)];
      const e = lin(emb, 'time_dense', 3).map(Math.tanh);
      const feat = [...x, ...x.map(Math.sin), ...x.map(Math.cos)];
      const h = lin(feat, 'in_dense', 3);
      const a1 = lin(h.map(Math.tanh), 'block_0_dense_0', 3);
      const tp = lin(e, 'block_0_time', 3);
      const a2 = lin(
        a1.map((v, j) => Math.tanh(v + tp[j])),
        'block_0_dense_1',
        3,
      );
      return lin(
        h.map((v, j) => Math.tanh(v + a2[j])),
        'out_dense',
        2,
      );
    };
    const { x, t } = denoiserInputs([2], 4, T);
    const out = predictValues(m, [2], x, t);
    for (let i = 0; i < 4; i++) {
      const r = ref([x[2 * i], x[2 * i + 1]], t[i]);
      expect(out.values[2 * i]).toBeCloseTo(r[0], 5);
      expect(out.values[2 * i + 1]).toBeCloseTo(r[1], 5);
    }
    m.dispose();
  });

  it('normalises t by T inside the model: (T = 100, t = 50) ≡ (T = 1000, t = 500)', () => {
    const a = buildMlp(small(), denoiserContext([1], 2, 'epsilon', 100));
    const b = buildMlp(small(), denoiserContext([1], 2, 'epsilon', 1000));
    const x = Float32Array.from([0.3, -1.2]);
    const pa = predictValues(a, [1], x, Float32Array.from([50, 10])).values;
    const pb = predictValues(b, [1], x, Float32Array.from([500, 100])).values;
    for (let i = 0; i < 2; i++) expect(pb[i]).toBeCloseTo(pa[i], 5);
    a.dispose();
    b.dispose();
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = buildMlp(small(), denoiserContext([2], 42));
    const b = buildMlp(small(), denoiserContext([2], 42));
    const c = buildMlp(small(), denoiserContext([2], 43));
    expect(weightValues(a)).toEqual(weightValues(b));
    expect(weightValues(a)).not.toEqual(weightValues(c));
    for (const m of [a, b, c]) m.dispose();
  });

  for (const activation of ['silu', 'gelu', 'relu', 'tanh'] as const) {
    it(`gives every variable a gradient and matches its LayersModel (${activation})`, async () => {
      const before = tf.memory().numTensors;
      const m = buildMlp(small({ activation, inputEmbedding: 2 }), denoiserContext([2], 3));
      checkDenoiserGradients(m, [2], 8, T);
      await checkLayersModelMatches(m, [2], 6, T);
      m.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('flattens image-shaped data, does not leak, and round-trips bitwise', async () => {
    const shape = [3, 2, 1];
    const before = tf.memory().numTensors;
    const ctx = denoiserContext(shape, 4);
    const m = buildMlp(small({ inputEmbedding: 1 }), ctx);
    expect(predictValues(m, shape, ...(Object.values(denoiserInputs(shape, 3, T)) as [Float32Array, Float32Array])).shape).toEqual([3, ...shape]);
    checkPredictNoLeak(m, shape, 5, T);
    await checkLayersModelMatches(m, shape, 4, T);
    await checkSaveLoadIdentical(m, (a) => loadMlp(a, ctx), shape, 5, T);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps its own T after loading into a context with another schedule length', async () => {
    const m = buildMlp(small(), denoiserContext([1], 4, 'epsilon', 100));
    const a = await m.save();
    const x = Float32Array.from([0.1]);
    const t = Float32Array.from([20]);
    const p = predictValues(m, [1], x, t).values;
    m.dispose();
    const l = loadMlp(a, denoiserContext([1], 4, 'epsilon', 1000));
    expect(predictValues(l, [1], x, t).values).toEqual(p);
    l.dispose();
  });

  it('plugin: defaults and validation messages', () => {
    expect(mlpDenoiser.options.parse({})).toEqual({ width: 128, depth: 3, timeEmbedding: 64, inputEmbedding: 0, activation: 'silu' });
    const odd = mlpDenoiser.options.safeParse({ timeEmbedding: 7 });
    expect(odd.success).toBe(false);
    expect(odd.error?.issues[0].message).toMatch(/even/);
    expect(mlpDenoiser.options.safeParse({ activation: 'swish' }).success).toBe(false);
    expect(mlpDenoiser.options.safeParse({ depth: 0 }).success).toBe(false);
  });
});
