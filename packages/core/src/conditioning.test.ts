import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { dropLabels, nullClass, requestedLabels } from './conditioning.js';
import { ConfigError } from './errors.js';
import { Rng } from './rng.js';
import { generateSamples, makeDenoiseFn } from './sample.js';
import { scheduleFromBetas } from './schedule.js';
import type { Sampler } from './spec.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('dropLabels', () => {
  it('keeps each row’s class, replacing it by the null class at the dropout rate (binomial bound), deterministically', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => i % 3);
    const rows = Uint32Array.from({ length: 20000 }, (_, i) => (i * 7) % 100);
    const a = dropLabels(labels, rows, 0.1, 3, new Rng(5));
    expect(Array.from(dropLabels(labels, rows, 0.1, 3, new Rng(5)))).toEqual(Array.from(a));
    let dropped = 0;
    a.forEach((l, i) => {
      if (l === 3) dropped++;
      else expect(l).toBe(labels[rows[i]]);
    });
    // 0.1 ± 5σ, σ = √(0.1·0.9/20000)
    expect(Math.abs(dropped / 20000 - 0.1)).toBeLessThan(5 * Math.sqrt(0.09 / 20000));
    expect(dropLabels(labels, rows, 0, 3, new Rng(1)).every((l, i) => l === labels[rows[i]])).toBe(true);
  });
});

describe('requestedLabels', () => {
  const names = ['a', 'b', 'c'];
  it('shares n out equally in contiguous blocks: all classes, one, or a list by index or name', () => {
    expect(Array.from(requestedLabels('all', names, 6))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(Array.from(requestedLabels('all', names, 7)).map((k) => k)).toEqual([0, 0, 0, 1, 1, 2, 2]);
    expect(Array.from(requestedLabels('b', names, 3))).toEqual([1, 1, 1]);
    expect(Array.from(requestedLabels(2, names, 2))).toEqual([2, 2]);
    expect(Array.from(requestedLabels(['c', 0], names, 4))).toEqual([2, 2, 0, 0]);
    expect(nullClass(names)).toBe(3);
  });
  it('names the key and the classes when a class does not exist', () => {
    expect(() => requestedLabels(['z'], names, 4)).toThrow(ConfigError);
    expect(() => requestedLabels(3, names, 4)).toThrow(/evaluation\.classes.*3 classes.*valid: a, b, c/s);
  });
});

describe('classifier-free guidance in the DenoiseFn (Ho & Salimans 2022, eq. 6)', () => {
  const schedule = scheduleFromBetas('c', [0.5, 0.5]);
  // A stand-in conditional ε-model whose output depends on the class: ε̂(x, t, y) = x·(y + 1) + t, null class 3.
  const calls: number[] = [];
  const model = {
    predict(x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor) {
      calls.push(x.shape[0]);
      return tf.tidy(() => {
        const y = labels ? tf.cast(labels, 'float32') : tf.fill([x.shape[0]], 3);
        return tf.add(tf.mul(x, tf.reshape(tf.add(y, 1), [-1, 1])), tf.reshape(t, [-1, 1]));
      });
    },
  };
  const x = () => tf.tensor2d([1, 2, -1, 0.5, 3, -2], [3, 2]);
  const labels = Int32Array.from([0, 2, 1]);
  const eps = (w: number) => {
    calls.length = 0;
    const xt = x();
    const out = makeDenoiseFn(model, schedule, 'epsilon', 'ddpm', { labels, nullIndex: 3, guidance: w })(xt, 1);
    const v = Array.from(out.eps.dataSync());
    tf.dispose([xt, out.eps, out.x0]);
    return v;
  };
  const rows = [
    [1, 2],
    [-1, 0.5],
    [3, -2],
  ];
  const byHand = (w: number) => rows.flatMap((r, i) => r.map((v) => 4 * v + 1 + w * ((labels[i] + 1) * v - 4 * v)));

  it('w = 1 is the plain conditional prediction, w = 0 the unconditional (null class), each with one model call on n rows', () => {
    expect(eps(1)).toEqual(rows.flatMap((r, i) => r.map((v) => (labels[i] + 1) * v + 1)));
    expect(calls).toEqual([3]);
    expect(eps(0)).toEqual(rows.flatMap((r) => r.map((v) => 4 * v + 1)));
    expect(calls).toEqual([3]);
  });

  it('w = 3 gives ε̂_u + w·(ε̂_c − ε̂_u) from one model call on the 2n-row batch, leaking no tensors', () => {
    const before = tf.memory().numTensors;
    const got = eps(3);
    expect(tf.memory().numTensors).toBe(before);
    byHand(3).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
    expect(calls).toEqual([6]);
  });

  it('generateSamples hands each batch its own slice of the labels', async () => {
    const oneStep: Sampler = {
      name: 'one-step',
      defaultSteps: 1,
      timesteps: () => [1],
      async sample({ denoise, n, shape }) {
        const xt = tf.ones([n, ...shape]);
        const out = denoise(xt, 1);
        xt.dispose();
        out.x0.dispose();
        return { x: out.eps, nfe: 1 };
      },
    };
    const many = Int32Array.from({ length: 5 }, (_, i) => i % 3);
    const r = await generateSamples({
      model,
      sampler: oneStep,
      schedule,
      predictionType: 'epsilon',
      shape: [1],
      n: 5,
      rng: new Rng(0),
      batchSize: 2,
      condition: { labels: many, nullIndex: 3, guidance: 1 },
    });
    // ε̂ = 1·(y + 1) + 1 for x = 1.
    expect(Array.from(r.samples)).toEqual(Array.from(many, (y) => y + 2));
  });
});
