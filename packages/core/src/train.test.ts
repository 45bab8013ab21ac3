import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import { scheduleFromBetas } from './schedule.js';
import type { DenoiserModel } from './spec.js';
import { batchesPerEpoch, train, trainingLength } from './train.js';
import { makeTrainingBatch } from './training-batch.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
const schedule = scheduleFromBetas('linear', linspace(1e-4, 0.02, 100));

/** A tiny affine model epŝ = a·x + b·t/T + c, enough to exercise the loop. */
function tinyModel(): DenoiserModel {
  const a = tf.tidy(() => tf.variable(tf.scalar(0), true, `a_${Math.random()}`));
  const b = tf.tidy(() => tf.variable(tf.scalar(0), true, `b_${Math.random()}`));
  const c = tf.tidy(() => tf.variable(tf.scalar(0), true, `c_${Math.random()}`));
  return {
    architecture: 'affine',
    parameterCount: 3,
    variables: [a, b, c],
    predict: (x, t) => tf.tidy(() => tf.add(tf.add(tf.mul(x, a), tf.mul(tf.reshape(t, [-1, 1]), tf.div(b, 100))), c)),
    save: async () => ({}),
    dispose: () => {
      a.dispose();
      b.dispose();
      c.dispose();
    },
  };
}

describe('forward process', () => {
  it('gives xₜ with mean √ᾱₜ·x₀ and variance 1−ᾱₜ for fixed x₀ (within sampling error)', () => {
    const n = 20_000;
    const x0 = new Float32Array(n).fill(1.5);
    const rows = Uint32Array.from({ length: n }, (_, i) => i);
    const { xt, t } = makeTrainingBatch(x0, rows, 1, schedule, 'epsilon', new Rng(11));
    // Group by timestep and check a few well-populated ones.
    for (const tt of [0, 50, 99]) {
      const vals: number[] = [];
      for (let i = 0; i < n; i++) if (t[i] === tt) vals.push(xt[i]);
      const m = vals.reduce((s, v) => s + v, 0) / vals.length;
      const v = vals.reduce((s, x) => s + (x - m) ** 2, 0) / (vals.length - 1);
      const ab = schedule.alphasCumprod[tt];
      const se = Math.sqrt((1 - ab) / vals.length);
      expect(Math.abs(m - Math.sqrt(ab) * 1.5)).toBeLessThan(5 * se + 1e-6);
      if (tt > 0) expect(Math.abs(v / (1 - ab) - 1)).toBeLessThan(5 * Math.sqrt(2 / vals.length));
    }
  });

  it('draws t uniformly over [0, T)', () => {
    const n = 50_000;
    const { t } = makeTrainingBatch(
      new Float32Array(n),
      Uint32Array.from({ length: n }, (_, i) => i),
      1,
      schedule,
      'epsilon',
      new Rng(2),
    );
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of t) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      expect(Number.isInteger(v)).toBe(true);
    }
    expect(lo).toBe(0);
    expect(hi).toBe(99);
  });
});

describe('train', () => {
  it('counts steps as a DataLoader with drop_last=False', () => {
    expect(batchesPerEpoch(1000, 32)).toBe(32);
    expect(trainingLength(1000, { epochs: 1000, batchSize: 32 })).toEqual({ steps: 32_000, epochs: 1000 });
    expect(trainingLength(1000, { steps: 100, batchSize: 32 })).toEqual({ steps: 100, epochs: 4 });
  });

  it('reduces the loss, logs every epoch, is deterministic and leaks no tensors', async () => {
    const rng = new Rng(3);
    const data = rng.normalArray(256);
    const run = async () => {
      const model = tinyModel();
      const before = tf.memory().numTensors;
      const epochsSeen: number[] = [];
      const r = await train({
        model,
        trainingSet: { data, count: 256 },
        shape: [1],
        schedule,
        rng: new Rng(9),
        config: { epochs: 20, batchSize: 32, learningRate: 0.05, predictionType: 'epsilon', logEvery: 5 },
        onEpochEnd: (e) => {
          if (e.logged) epochsSeen.push(e.epoch);
        },
      });
      expect(tf.memory().numTensors).toBe(before);
      const weights = model.variables.map((v) => v.dataSync()[0]);
      model.dispose();
      return { r, epochsSeen, weights };
    };
    const a = await run();
    const b = await run();
    expect(a.r.steps).toBe(160);
    expect(a.epochsSeen).toEqual([5, 10, 15, 20]);
    expect(a.r.lossHistory[19].loss).toBeLessThan(a.r.lossHistory[0].loss);
    expect(a.r.path).toBe('tfjs');
    expect(a.weights).toEqual(b.weights);
  });
});

describe('training features', () => {
  const rng = new Rng(3);
  const data = rng.normalArray(128);
  const base = { batchSize: 32, learningRate: 0.05, predictionType: 'epsilon' as const, logEvery: 1 };
  const run = async (config: Partial<import('./training-config.js').TrainConfigInput>, extra: Partial<import('./train.js').TrainParams> = {}) => {
    const model = tinyModel();
    const r = await train({ model, trainingSet: { data, count: 128 }, shape: [1], schedule, rng: new Rng(9), config: { ...base, epochs: 6, ...config }, ...extra });
    const weights = model.variables.map((v) => v.dataSync()[0]);
    model.dispose();
    return { r, weights };
  };

  it('resumes from a periodic checkpoint onto the exact same trajectory', async () => {
    const states: import('./train.js').TrainState[] = [];
    const full = await run({ checkpointEvery: 2, emaDecay: 0.9 }, { onCheckpoint: (s) => void states.push(s) });
    expect(states.map((s) => s.epoch)).toEqual([2, 4]);
    const before = tf.memory().numTensors;
    const resumed = await run({ checkpointEvery: 2, emaDecay: 0.9 }, { resumeFrom: states[0] });
    expect(tf.memory().numTensors).toBe(before);
    expect(resumed.r.resumedFromStep).toBe(8);
    expect(resumed.r.steps).toBe(full.r.steps);
    expect(resumed.weights).toEqual(full.weights);
    expect(resumed.r.lossHistory).toEqual(full.r.lossHistory);
  });

  it('hands the guide snapshot the EMA weights of its step: what a run that stops there ends with', async () => {
    // Constant learning rate, so a 13-step run follows the first 13 steps of the 24-step one exactly.
    const cfg = { emaDecay: 0.9 };
    const seen: { step: number; weights: number[] }[] = [];
    const model = tinyModel();
    const full = await train({
      model,
      trainingSet: { data, count: 128 },
      shape: [1],
      schedule,
      rng: new Rng(9),
      config: { ...base, ...cfg, steps: 24, guideSnapshotStep: 13 },
      onGuideSnapshot: (step) => void seen.push({ step, weights: model.variables.map((v) => v.dataSync()[0]) }),
    });
    const finalWeights = model.variables.map((v) => v.dataSync()[0]);
    model.dispose();
    const short = await run({ ...cfg, epochs: undefined, steps: 13 });
    expect(seen).toEqual([{ step: 13, weights: short.weights }]);
    // The snapshot leaves the run as it was: the same final weights as a run without it.
    const plain = await run({ ...cfg, epochs: undefined, steps: 24 });
    expect(full.steps).toBe(24);
    expect(finalWeights).toEqual(plain.weights);
  });

  it('refuses a guide snapshot step the run never reaches', async () => {
    await expect(run({ epochs: undefined, steps: 10, guideSnapshotStep: 10 })).rejects.toThrow(/guideSnapshotStep: is 10, but the run trains 10 steps/);
  });

  it('uses EMA weights at the end: decay 0 equals no EMA, decay ≈ 1 keeps the initial weights', async () => {
    const plain = await run({});
    const ema0 = await run({ emaDecay: 0, emaWarmup: false });
    expect(ema0.weights).toEqual(plain.weights);
    const ema1 = await run({ emaDecay: 1, emaWarmup: false });
    expect(ema1.weights).toEqual([0, 0, 0]);
  });

  it('min-SNR with a huge γ weighs ε-prediction samples by 1, like the plain loss', async () => {
    const plain = await run({});
    const weighted = await run({ lossWeighting: 'min-snr', minSnrGamma: 1e30 });
    weighted.weights.forEach((w, i) => expect(w).toBeCloseTo(plain.weights[i], 5));
  });

  it('stops at once on a non-finite loss, naming the step and the last finite loss', async () => {
    const model = tinyModel();
    const bad = { ...model, predict: (x: tf.Tensor, t: tf.Tensor) => tf.tidy(() => tf.mul(model.predict(x, t), Number.NaN)) };
    await expect(train({ model: bad, trainingSet: { data, count: 128 }, shape: [1], schedule, rng: new Rng(1), config: { ...base, epochs: 3 } })).rejects.toThrow(
      /NaN or Infinity at step 4 \(last finite loss: none\)/,
    );
    model.dispose();
  });
});
