import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { alphaBarAt, type DenoiserModel, Rng, train } from '@diffusionlab/core';
import { denoiserContext } from '@diffusionlab/testkit';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerDenoiserLayers } from './embeddings.js';
import { buildMlp, loadMlp, mlpOptions, mlpParameterCount } from './mlp.js';
import { buildOracle, oracleOptions } from './oracle.js';
import { buildUnet, loadUnet, unetOptions } from './unet.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const names = ['left', 'right', 'top'];
const o = mlpOptions.parse({ width: 8, depth: 2, timeEmbedding: 6 });
const conditionalCtx = (seed = 3) => ({ ...denoiserContext([2], seed), labelNames: names });
const x = tf.tensor2d([0.5, -1, 2, 0.1, -0.3, 0.7, 1, 1], [4, 2]);
const t = tf.tensor1d([3, 50, 99, 10.5]);
const run = (m: DenoiserModel, labels?: number[]) => tf.tidy(() => Array.from(m.predict(x, t, labels ? tf.tensor1d(labels, 'int32') : undefined).dataSync()));
const embeddingRows = (m: DenoiserModel) => {
  const v = m.variables.find((w) => w.name.endsWith('class_embedding/embeddings')) as tf.Variable;
  return Array.from({ length: names.length + 1 }, (_, k) => Array.from(v.dataSync().slice(k * 8, k * 8 + 8)));
};

describe('conditional mlp', () => {
  it('adds a (K + 1) × width class embedding after the unconditional weights, which it leaves as they were', () => {
    const u = buildMlp(o, denoiserContext([2], 3));
    const c = buildMlp(o, conditionalCtx(3));
    expect(c.parameterCount).toBe(mlpParameterCount(2, o) + (names.length + 1) * o.width);
    expect(c.labelNames).toEqual(names);
    expect(u.labelNames).toBeUndefined();
    u.variables.forEach((v, i) => expect(Array.from(c.variables[i].dataSync())).toEqual(Array.from(v.dataSync())));
    // The description carries the class embedding (the model's own variable, the last one), so a fast path runs it with its labels or declines.
    const emb = c.variables.find((w) => w.name.endsWith('class_embedding/embeddings'));
    expect(emb).toBe(c.variables[c.variables.length - 1]);
    const desc = c.describe?.();
    expect(desc?.kind).toBe('residual-mlp');
    expect(desc && 'classEmbedding' in desc ? desc.classEmbedding : undefined).toBe(emb);
    expect(u.describe?.()).not.toBeNull();
    expect(u.describe?.()).not.toHaveProperty('classEmbedding');
    u.dispose();
    c.dispose();
  });

  it('predicts per class; no labels is the null class K; the embedding enters as e = act(L_time(emb t) + C[y])', () => {
    const c = buildMlp(o, conditionalCtx());
    const before = tf.memory().numTensors;
    const a = run(c, [0, 0, 0, 0]);
    const b = run(c, [1, 1, 1, 1]);
    expect(a).not.toEqual(b);
    expect(run(c, [3, 3, 3, 3])).toEqual(run(c));
    expect(run(c, [0, 1, 0, 1]).slice(2, 4)).toEqual(b.slice(2, 4));
    expect(tf.memory().numTensors).toBe(before);
    // Zeroing C makes every class predict what the unconditional model with the same other weights does (silu(L_time(emb)) + 0).
    const u = buildMlp(o, denoiserContext([2], 3));
    const emb = c.variables.find((w) => w.name.endsWith('class_embedding/embeddings')) as tf.Variable;
    emb.assign(tf.zerosLike(emb));
    run(c, [0, 1, 2, 3]).forEach((v, i) => expect(v).toBeCloseTo(run(u)[i], 6));
    u.dispose();
    c.dispose();
  });

  it('save → load restores the label set and the same function; the saved LayersModel takes [x, t, class]', async () => {
    const c = buildMlp(o, conditionalCtx());
    const artifacts = await c.save();
    const l = loadMlp(artifacts, denoiserContext([2]));
    expect(l.labelNames).toEqual(names);
    expect(run(l, [2, 0, 3, 1])).toEqual(run(c, [2, 0, 3, 1]));
    registerDenoiserLayers();
    const layers = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const out = tf.tidy(() => Array.from((layers.predict([x, tf.reshape(t, [4, 1]), tf.tensor2d([2, 0, 3, 1], [4, 1], 'int32')]) as tf.Tensor).dataSync()));
    run(c, [2, 0, 3, 1]).forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
    layers.dispose();
    c.dispose();
    l.dispose();
  });

  it('training feeds the labels and drops them at the dropout rate: with dropout 1 only the null row learns, with 0 it never does', async () => {
    const data = Float32Array.from({ length: 96 * 2 }, (_, i) => (i % 2 ? 1 : -1) * ((i >> 1) % 3));
    const labels = Int32Array.from({ length: 96 }, (_, i) => i % 3);
    const ctx = conditionalCtx();
    const go = async (dropout: number) => {
      const m = buildMlp(o, conditionalCtx());
      const start = embeddingRows(m);
      const r = await train({
        model: m,
        trainingSet: { data, count: 96, labels },
        shape: [2],
        schedule: ctx.schedule,
        config: { epochs: 2, batchSize: 32 },
        conditioning: { dropout },
        rng: new Rng(1),
      });
      const end = embeddingRows(m);
      m.dispose();
      return { r, moved: start.map((row, k) => row.some((v, j) => v !== end[k][j])) };
    };
    const never = await go(0);
    expect(never.moved).toEqual([true, true, true, false]);
    const always = await go(1);
    expect(always.moved).toEqual([false, false, false, true]);
    expect(never.r.path).toBe('tfjs');
  });

  it('a conditional model refuses a training set without labels, naming the key and the fix', async () => {
    const m = buildMlp(o, conditionalCtx());
    const ctx = conditionalCtx();
    await expect(
      train({ model: m, trainingSet: { data: new Float32Array(8), count: 4 }, shape: [2], schedule: ctx.schedule, config: { epochs: 1 }, rng: new Rng(1) }),
    ).rejects.toThrow(/conditioning\.enabled.*no labels/s);
    m.dispose();
  });
});

describe('conditional oracle', () => {
  const mixture = { weights: [0.25, 0.75], means: [[-2], [3]], stds: [[0.5], [0.8]] };
  const dataset = { name: 'gm', shape: [1], info: { mixture }, load: () => ({ data: new Float32Array(0), count: 0 }), reference: () => new Float32Array(0) };
  it('class k gives the posterior mean of component k alone (Gaussian conditioning, Bishop 2006 eq. 2.116); the null class the whole mixture', () => {
    const ctx = { ...denoiserContext([1], 1, 'sample'), dataset, labelNames: ['a', 'b'] };
    const oracle = buildOracle(oracleOptions.parse({ source: 'mixture' }), ctx);
    const plain = buildOracle(oracleOptions.parse({ source: 'mixture' }), { ...ctx, labelNames: undefined });
    const xs = [-3, 0.2, 4];
    const tt = 40;
    const ab = alphaBarAt(ctx.schedule, tt);
    const pred = (m: DenoiserModel, y?: number) =>
      tf.tidy(() => Array.from(m.predict(tf.tensor2d(xs, [3, 1]), tf.fill([3], tt), y === undefined ? undefined : tf.fill([3], y, 'int32')).dataSync()));
    for (const k of [0, 1]) {
      const [mu, s] = [mixture.means[k][0], mixture.stds[k][0]];
      const gain = (Math.sqrt(ab) * s * s) / (ab * s * s + 1 - ab);
      pred(oracle, k).forEach((v, i) => expect(v).toBeCloseTo(mu + gain * (xs[i] - Math.sqrt(ab) * mu), 4));
    }
    expect(pred(oracle, 2)).toEqual(pred(plain));
    expect(pred(oracle)).toEqual(pred(plain));
    expect(oracle.labelNames).toEqual(['a', 'b']);
  });
  it('refuses classes that are not the mixture components', () => {
    const ctx = { ...denoiserContext([1]), dataset, labelNames: ['a', 'b', 'c'] };
    expect(() => buildOracle(oracleOptions.parse({ source: 'mixture' }), ctx)).toThrow(/3 classes but its mixture 2 components/);
  });
});

describe('conditional unet', () => {
  const uo = unetOptions.parse({ channels: 4, channelMultipliers: [1, 2], blocksPerLevel: 1, timeEmbedding: 8 });
  const img = tf.tidy(() => tf.randomNormal([3, 8, 8, 1], 0, 1, 'float32', 4));
  const tt = tf.tensor1d([5, 40, 90]);
  const go = (m: DenoiserModel, labels?: number[]) => tf.tidy(() => Array.from(m.predict(img, tt, labels ? tf.tensor1d(labels, 'int32') : undefined).dataSync()));
  it('adds a (K + 1) × 4C class embedding after the unconditional weights; predicts per class; saves and loads with its label set', async () => {
    const u = buildUnet(uo, denoiserContext([8, 8, 1], 2));
    const c = buildUnet(uo, { ...denoiserContext([8, 8, 1], 2), labelNames: names });
    expect(c.parameterCount).toBe(u.parameterCount + (names.length + 1) * 16);
    u.variables.forEach((v, i) => expect(Array.from(c.variables[i].dataSync())).toEqual(Array.from(v.dataSync())));
    // the description carries the class embedding (the last variable), so the fused U-Net runs it with its labels
    const desc = c.describe?.() as { classEmbedding?: tf.Variable };
    expect(desc.classEmbedding).toBe(c.variables[c.variables.length - 1]);
    expect(desc.classEmbedding?.shape).toEqual([names.length + 1, 16]);
    expect(u.describe?.()).not.toHaveProperty('classEmbedding');
    expect(go(c, [0, 0, 0])).not.toEqual(go(c, [1, 1, 1]));
    expect(go(c)).toEqual(go(c, [3, 3, 3]));
    const artifacts = await c.save();
    const l = loadUnet(artifacts, denoiserContext([8, 8, 1]));
    expect(l.labelNames).toEqual(names);
    expect(go(l, [2, 1, 0])).toEqual(go(c, [2, 1, 0]));
    const layers = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const out = tf.tidy(() => Array.from((layers.predict([img, tf.reshape(tt, [3, 1]), tf.tensor2d([2, 1, 0], [3, 1], 'int32')]) as tf.Tensor).dataSync()));
    go(c, [2, 1, 0]).forEach((v, i) => expect(out[i]).toBeCloseTo(v, 4));
    for (const m of [u, c, l]) m.dispose();
    layers.dispose();
  });
});
