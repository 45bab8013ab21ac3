import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { autoguidedPredict } from './autoguidance.js';
import { Rng } from './rng.js';
import { generateSamples, makeDenoiseFn } from './sample.js';
import { scheduleFromBetas } from './schedule.js';
import type { Sampler } from './spec.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A model whose raw output is `c` everywhere, plus `perLabel[k]` for rows of class k when given labels. */
function constantModel(c: number, perLabel: number[] = []) {
  return {
    predict: (xt: tf.Tensor, _t: tf.Tensor, labels?: tf.Tensor) =>
      tf.tidy(() => {
        const base = tf.fill(xt.shape, c);
        if (!labels) return base;
        const add = tf.reshape(tf.tensor1d(Array.from(labels.dataSync()).map((k) => perLabel[k] ?? 0)), [xt.shape[0], ...xt.shape.slice(1).map(() => 1)]);
        return tf.add(base, add);
      }),
  };
}

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('autoguidedPredict (Karras et al. 2024, eq. 2)', () => {
  const main = (x: tf.Tensor) => tf.mul(x, 3);
  const guide = (x: tf.Tensor) => tf.add(x, 1);
  const x = tf.tensor1d([0.5, -2, 4]);

  it('is D₀ + w·(D₁ − D₀): w = 2.5 extrapolates past the model, away from the guide', () => {
    const out = autoguidedPredict(main, guide, 2.5)(x, 7);
    // D₁ = 3x, D₀ = x + 1: 2.5·3x − 1.5·(x + 1) = 6x − 1.5
    expect(values(out)).toEqual([0.5 * 6 - 1.5, -2 * 6 - 1.5, 4 * 6 - 1.5].map((v) => expect.closeTo(v, 6)));
  });

  it('w = 1 is the model and w = 0 the guide, each evaluated alone', () => {
    let guideCalls = 0;
    let mainCalls = 0;
    const m = (v: tf.Tensor) => (mainCalls++, main(v));
    const g = (v: tf.Tensor) => (guideCalls++, guide(v));
    expect(values(autoguidedPredict(m, g, 1)(x, 0))).toEqual(values(main(x)));
    expect(guideCalls).toBe(0);
    expect(values(autoguidedPredict(m, g, 0)(x, 0))).toEqual(values(guide(x)));
    expect(mainCalls).toBe(1);
  });

  it('refuses a negative or non-finite weight', () => {
    for (const w of [-0.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => autoguidedPredict(main, guide, w)).toThrow(/weight must be a finite number ≥ 0/);
  });

  it('leaks no tensors', () => {
    const before = tf.memory().numTensors;
    autoguidedPredict(main, guide, 2)(x, 0).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('makeDenoiseFn with a guide: ε̂ and x̂₀ follow the guided output', () => {
  const schedule = scheduleFromBetas('c', [0.5, 0.5]); // ᾱ = 0.5, 0.25
  const xt = tf.tensor2d([[1, -1]]);
  const [c1, c0, w] = [0.4, -0.2, 2];
  const vw = c0 + w * (c1 - c0); // the guided raw output

  it('flow: v_w = v₀ + w(v₁ − v₀), x̂₀ = xₜ − t·v_w, ε̂ = xₜ + (1 − t)·v_w (xₜ = (1 − t)x₀ + tε)', () => {
    const t = 0.3;
    const d = makeDenoiseFn(constantModel(c1), schedule, 'epsilon', 'flow', undefined, { model: constantModel(c0), weight: w })(xt, t);
    expect(values(d.x0)).toEqual([1 - t * vw, -1 - t * vw].map((v) => expect.closeTo(v, 6)));
    expect(values(d.eps)).toEqual([1 + (1 - t) * vw, -1 + (1 - t) * vw].map((v) => expect.closeTo(v, 6)));
  });

  it('ddpm ε: ε̂_w = ε̂₀ + w(ε̂₁ − ε̂₀), x̂₀ = (xₜ − √(1 − ᾱ)·ε̂_w)/√ᾱ', () => {
    const d = makeDenoiseFn(constantModel(c1), schedule, 'epsilon', 'ddpm', undefined, { model: constantModel(c0), weight: w })(xt, 1);
    expect(values(d.eps)).toEqual([vw, vw].map((v) => expect.closeTo(v, 6)));
    const ab = 0.25;
    expect(values(d.x0)).toEqual([1, -1].map((x) => expect.closeTo((x - Math.sqrt(1 - ab) * vw) / Math.sqrt(ab), 5)));
  });

  it('with class guidance, each model is guided by class first, then the guide is extrapolated away from', () => {
    // Labels [0, 1], null class 2; per-class offsets differ between the model and its guide.
    const main = constantModel(c1, [1, 2, 0]);
    const guide = constantModel(c0, [0.5, -1, 0]);
    const cfg = { labels: Int32Array.from([0, 1]), nullIndex: 2, guidance: 3 };
    const xt2 = tf.tensor2d([[0], [0]]);
    const d = makeDenoiseFn(main, schedule, 'epsilon', 'ddpm', cfg, { model: guide, weight: w })(xt2, 1);
    // CFG per model: out_u + 3(out_c − out_u) = c + 3·offset(k) (the null class adds 0).
    const cfgOut = (c: number, off: number[]) => [c + 3 * off[0], c + 3 * off[1]];
    const m = cfgOut(c1, [1, 2]);
    const g = cfgOut(c0, [0.5, -1]);
    expect(values(d.eps)).toEqual([0, 1].map((i) => expect.closeTo(g[i] + w * (m[i] - g[i]), 5)));
  });
});

/** Flow Euler from t = 1 to 0 in `steps` equal steps: x₀ = x₁ − Σ v·Δt, so a constant v gives x₀ = x₁ − v exactly. */
const flowEuler: Sampler = {
  name: 'test-flow-euler',
  defaultSteps: 4,
  objectives: ['flow'],
  timesteps: () => [],
  async sample({ denoise, shape, n, steps, rng }) {
    const D = shape.reduce((a, b) => a * b, 1);
    let x = tf.tensor(rng.normalArray(n * D), [n, ...shape]);
    for (let i = 0; i < steps; i++) {
      const t = 1 - i / steps;
      const next = tf.tidy(() => {
        const { eps, x0 } = denoise(x, t);
        return tf.sub(x, tf.mul(tf.sub(eps, x0), 1 / steps)); // v = ε̂ − x̂₀
      });
      x.dispose();
      x = next;
    }
    return { x, nfe: steps };
  },
};

describe('generateSamples with a guide', () => {
  const schedule = scheduleFromBetas('c', [0.5, 0.5]);
  const base = { sampler: flowEuler, schedule, predictionType: 'epsilon' as const, objective: 'flow' as const, shape: [3], n: 5, steps: 4 };

  it('integrates the guided velocity: samples(w) − samples(1) = (w − 1)·(v₀ − v₁) for constant velocities', async () => {
    const [v1, v0] = [0.7, 0.1];
    const plain = await generateSamples({ ...base, model: constantModel(v1), rng: new Rng(5) });
    for (const w of [0, 2, 3.5]) {
      const guided = await generateSamples({ ...base, model: constantModel(v1), rng: new Rng(5), guide: { model: constantModel(v0), weight: w } });
      const diff = Array.from(guided.samples, (s, i) => s - plain.samples[i]);
      expect(diff).toEqual(diff.map(() => expect.closeTo((w - 1) * (v0 - v1), 5)));
    }
  });

  it('a guide equal to the model changes nothing at any weight, and w = 1 is bit-identical to no guide', async () => {
    const model = { predict: (x: tf.Tensor, t: tf.Tensor) => tf.tidy(() => tf.add(tf.mul(x, 0.5), tf.reshape(t, [-1, 1]))) };
    const plain = await generateSamples({ ...base, model, rng: new Rng(9) });
    const same = await generateSamples({ ...base, model, rng: new Rng(9), guide: { model, weight: 2.5 } });
    same.samples.forEach((s, i) => expect(s).toBeCloseTo(plain.samples[i], 5));
    const one = await generateSamples({ ...base, model, rng: new Rng(9), guide: { model: constantModel(9), weight: 1 } });
    expect(Array.from(one.samples)).toEqual(Array.from(plain.samples));
  });

  it('refuses a fused whole loop, which runs one model', async () => {
    const loop = async () => ({ samples: new Float32Array(15), snapshots: [], nfe: 1 });
    await expect(generateSamples({ ...base, model: constantModel(0), rng: new Rng(1), loop, guide: { model: constantModel(1), weight: 2 } })).rejects.toThrow(
      /autoguided one samples through the sampler/,
    );
  });
});
