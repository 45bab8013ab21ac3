import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ResidualMlpDescription, Rng, scheduleFromBetas, train } from '@diffusionlab/core';
import type { AcceleratorTrainOptions } from './fused-adam.js';
import { createFusedResidualMlpTrainer, FusedResidualMlpTrainer } from './residual-train.js';
import { createFusedTrainer, mlpTrainAccelerator } from './train-accelerator.js';
import { type Act, randomBatch } from './test/mlp-fixture.js';
import { asResidualModel, disposeResidual, makeResidual, referenceResidualForward, type ResidualOptions, residualVariables } from './test/residual-fixture.js';
import { maxAbs, maxAbsDiff } from './test/compare.js';

const ADAM: AcceleratorTrainOptions = { optimizer: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, backend: 'cpu' };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function opts(o: Partial<ResidualOptions> = {}): ResidualOptions {
  return { activation: 'silu', dataDim: 2, width: 16, depth: 2, timeEmbedding: 8, numTrainTimesteps: 1000, inputEmbedding: 0, ...o };
}

/** tfjs reference loss and gradients (tf.variableGrads) for one batch, per variable in parameter order. */
function referenceGrads(d: ResidualMlpDescription, batch: ReturnType<typeof randomBatch>) {
  return tf.tidy(() => {
    const n = batch.size;
    const D = d.dataDim;
    const xt = tf.tensor2d(batch.xt, [n, D]);
    const t = tf.tensor1d(batch.t);
    const target = tf.tensor2d(batch.target, [n, D]);
    const vars = residualVariables(d);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(referenceResidualForward(d, xt, t), target)) as tf.Scalar, vars);
    return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync().slice()) };
  });
}

function trainer(d: ResidualMlpDescription, o: Partial<AcceleratorTrainOptions> = {}): FusedResidualMlpTrainer {
  const made = createFusedResidualMlpTrainer(d, { ...ADAM, ...o });
  if (typeof made === 'string') throw new Error(made);
  return made;
}

describe('fused residual MLP gradients match tf.variableGrads', () => {
  const cases: { act: Act; depth: number; D: number; width: number; F?: number; n: number }[] = [];
  for (const act of ['silu', 'relu', 'gelu', 'tanh'] as const) {
    for (const depth of [1, 3]) for (const D of [1, 2]) cases.push({ act, depth, D, width: depth === 1 ? 13 : 24, n: D === 1 ? 9 : 16 });
  }
  cases.push({ act: 'silu', depth: 2, D: 2, width: 16, F: 3, n: 11 }, { act: 'gelu', depth: 1, D: 1, width: 32, F: 2, n: 5 });
  for (const c of cases) {
    it(`${c.act}, depth ${c.depth}, D=${c.D}, width ${c.width}${c.F ? `, ${c.F} Fourier frequencies` : ''}`, () => {
      const d = makeResidual(opts({ activation: c.act, depth: c.depth, dataDim: c.D, width: c.width, timeEmbedding: 10, inputEmbedding: c.F ?? 0 }), 11);
      const batch = randomBatch(c.n, c.D, new Rng(5), 1000);
      const ref = referenceGrads(d, batch);
      const tr = trainer(d);
      const loss = tr.computeGradients(batch);
      expect(Math.abs(loss - ref.loss)).toBeLessThan(1e-5 * Math.max(1, ref.loss));
      const got = tr.readGradients().flatMap((g) => [g.kernel, g.bias]);
      expect(got.length).toBe(ref.grads.length);
      const scale = Math.max(...ref.grads.map(maxAbs));
      got.forEach((g, i) => expect(maxAbsDiff(g, ref.grads[i])).toBeLessThan(1e-5 * scale));
      tr.dispose();
      disposeResidual(d);
    });
  }
});

/** Batches from a 2-D two-Gaussian mixture as DDPM's forward process makes them, T = 1000. */
function mixtureBatches(count: number, n: number, seed: number) {
  const rng = new Rng(seed);
  const s = scheduleFromBetas(
    'linear',
    Float64Array.from({ length: 1000 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 999),
  );
  return Array.from({ length: count }, () => {
    const xt = new Float32Array(2 * n);
    const t = new Float32Array(n);
    const target = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const ti = rng.int(1000);
      t[i] = ti;
      const c = rng.uniform() < 0.5 ? -1.5 : 1.5;
      for (let j = 0; j < 2; j++) {
        const x0 = c + 0.3 * rng.normal();
        const e = rng.normal();
        xt[2 * i + j] = Math.sqrt(s.alphasCumprod[ti]) * x0 + Math.sqrt(1 - s.alphasCumprod[ti]) * e;
        target[2 * i + j] = e;
      }
    }
    return { xt, t, target, size: n };
  });
}

/** The plain tfjs Adam(W) loop core's train() runs, on the cpu backend: per-step losses. */
function referenceRun(d: ResidualMlpDescription, batches: ReturnType<typeof randomBatch>[], o: AcceleratorTrainOptions): number[] {
  const optimizer = tf.train.adam(o.learningRate, o.beta1, o.beta2, o.epsilon);
  const vars = residualVariables(d);
  const D = d.dataDim;
  const losses = batches.map((b) =>
    tf.tidy(() => {
      const xt = tf.tensor2d(b.xt, [b.size, D]);
      const t = tf.tensor1d(b.t);
      const target = tf.tensor2d(b.target, [b.size, D]);
      const { value, grads } = optimizer.computeGradients(() => tf.mean(tf.squaredDifference(referenceResidualForward(d, xt, t), target)) as tf.Scalar, vars);
      let g = grads;
      if (o.gradClipNorm !== undefined) {
        const names = Object.keys(grads);
        const norm = tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k])))));
        const scale = tf.minimum(1, tf.div(o.gradClipNorm, tf.add(norm, 1e-6)));
        g = Object.fromEntries(names.map((k) => [k, tf.mul(grads[k], scale)]));
      }
      if (o.weightDecay > 0) for (const v of vars) v.assign(tf.mul(v, 1 - o.learningRate * o.weightDecay));
      optimizer.applyGradients(g);
      return value.dataSync()[0];
    }),
  );
  optimizer.dispose();
  return losses;
}

function worstRelative(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  return worst;
}

describe('fused residual Adam matches the plain tfjs loop', () => {
  it('200 steps: loss curve within 1e-3 relative; final weights close', () => {
    const batches = mixtureBatches(200, 32, 3);
    const o = opts({ width: 32, depth: 2, timeEmbedding: 16 });
    const a = makeResidual(o, 21);
    const b = makeResidual(o, 21);
    const ref = referenceRun(a, batches, ADAM);
    const tr = trainer(b);
    const losses = batches.map((x) => (tr.step(x), tr.takeLossSum()));
    expect(losses.slice(190).reduce((s, v) => s + v)).toBeLessThan(losses.slice(0, 10).reduce((s, v) => s + v)); // it trains
    expect(worstRelative(losses, ref)).toBeLessThan(1e-3);
    const w = tr.weights().flatMap((l) => [l.kernel, l.bias]);
    residualVariables(a).forEach((v, i) => expect(maxAbsDiff(w[i], v.dataSync())).toBeLessThan(1e-3));
    tr.dispose();
    disposeResidual(a);
    disposeResidual(b);
  });

  it('AdamW and gradient clipping (both act)', () => {
    const o = { ...ADAM, optimizer: 'adamw' as const, weightDecay: 0.5, learningRate: 3e-3, gradClipNorm: 0.5 };
    const batches = mixtureBatches(60, 16, 4);
    const shape = opts({ activation: 'gelu', width: 24, depth: 1, inputEmbedding: 2 });
    const a = makeResidual(shape, 8);
    const b = makeResidual(shape, 8);
    const ref = referenceRun(a, batches, o);
    const tr = trainer(b, o);
    const losses = batches.map((x) => (tr.step(x), tr.takeLossSum()));
    expect(worstRelative(losses, ref)).toBeLessThan(1e-3);
    const w = tr.weights().flatMap((l) => [l.kernel, l.bias]);
    residualVariables(a).forEach((v, i) => expect(maxAbsDiff(w[i], v.dataSync())).toBeLessThan(1e-4));
    const c = makeResidual(shape, 8);
    const trNoDecay = trainer(c, { ...o, optimizer: 'adam', weightDecay: 0 });
    batches.forEach((x) => trNoDecay.step(x));
    expect(maxAbsDiff(trNoDecay.weights()[2].kernel, tr.weights()[2].kernel)).toBeGreaterThan(1e-3);
    const e = makeResidual(shape, 8);
    const trNoClip = trainer(e, { ...o, gradClipNorm: undefined });
    const noClip = batches.map((x) => (trNoClip.step(x), trNoClip.takeLossSum()));
    expect(worstRelative(noClip, losses)).toBeGreaterThan(1e-2);
    [a, b, c, e].forEach(disposeResidual);
  });
});

describe('residual trainer lifecycle', () => {
  it('syncToModel writes exactly the kernel weights; buffers grow; no tensors leak', () => {
    const d = makeResidual(opts({ activation: 'tanh', width: 12 }), 2);
    const before = tf.memory().numTensors;
    const tr = trainer(d);
    const rng = new Rng(1);
    for (let i = 0; i < 5; i++) tr.step(randomBatch([9, 4, 40, 9, 3][i], 2, rng, 1000));
    const w = tr.weights().flatMap((l) => [l.kernel, l.bias]);
    tr.syncToModel();
    residualVariables(d).forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(w[i])));
    expect(tr.takeLossSum()).toBeGreaterThan(0);
    expect(tr.takeLossSum()).toBe(0);
    // after growing, gradients still match
    const big = randomBatch(70, 2, rng, 1000);
    tr.computeGradients(big);
    const ref = referenceGrads(d, big);
    const got = tr.readGradients().flatMap((g) => [g.kernel, g.bias]);
    const scale = Math.max(...ref.grads.map(maxAbs));
    got.forEach((g, i) => expect(maxAbsDiff(g, ref.grads[i])).toBeLessThan(1e-5 * scale));
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => tr.step(randomBatch(2, 2, rng))).toThrow(/dispose/);
    disposeResidual(d);
  });

  it('declines what it does not run, with reasons', () => {
    const d = makeResidual(opts(), 1);
    expect(createFusedTrainer(asResidualModel(d, false), ADAM)).toMatch(/not a plain MLP, a residual MLP nor a U-Net/);
    expect(createFusedTrainer({ ...asResidualModel(d), describe: () => null }, ADAM)).toMatch(/does not describe itself as a plain MLP, a residual MLP or a U-Net/);
    expect(createFusedResidualMlpTrainer({ ...d, activation: 'elu' as 'silu' }, ADAM)).toMatch(/activation 'elu'/);
    expect(createFusedResidualMlpTrainer({ ...d, timeEmbedding: 7 }, ADAM)).toMatch(/timeEmbedding 7/);
    expect(createFusedResidualMlpTrainer({ ...d, depth: 3 }, ADAM)).toMatch(/2 blocks for depth 3/);
    expect(createFusedResidualMlpTrainer({ ...d, inputEmbedding: 1 }, ADAM)).toMatch(/layer 1 has kernel \[2,16\]/);
    expect(createFusedResidualMlpTrainer(d, { ...ADAM, optimizer: 'sgd' as 'adam' })).toMatch(/optimizer 'sgd'/);
    expect(createFusedTrainer(asResidualModel(d), ADAM)).toBeInstanceOf(FusedResidualMlpTrainer);
    disposeResidual(d);
  });
});

describe("core's train() with the accelerator on a residual MLP", () => {
  const rng = new Rng(79);
  const data = Float32Array.from({ length: 512 }, (_, i) => (i % 4 < 2 ? 1.5 : -1.5) + 0.3 * rng.normal());
  const schedule = scheduleFromBetas(
    'linear',
    Float64Array.from({ length: 1000 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 999),
  );
  const run = async (accelerate: boolean, config: Record<string, unknown>) => {
    const m = asResidualModel(makeResidual(opts({ width: 32, depth: 2, timeEmbedding: 16 }), 33));
    const before = tf.memory().numTensors;
    const r = await train({
      model: m,
      trainingSet: { data, count: 256 },
      shape: [2],
      schedule,
      config: config as never,
      rng: new Rng(3),
      accelerator: accelerate ? mlpTrainAccelerator : undefined,
    });
    expect(tf.memory().numTensors).toBe(before);
    const w = m.variables.map((v) => v.dataSync().slice());
    m.dispose();
    return { r, w };
  };

  it('200 steps (AdamW, warm-up + cosine, EMA) follow the plain path’s loss history and weights', async () => {
    const config = {
      epochs: 25, // 256 rows / 32 = 8 steps an epoch
      batchSize: 32,
      learningRate: 2e-3,
      optimizer: 'adamw',
      weightDecay: 0.05,
      lrSchedule: 'cosine',
      warmupSteps: 20,
      emaDecay: 0.99,
      predictionType: 'epsilon',
      logEvery: 100,
      epsilon: 1e-8,
    };
    const fused = await run(true, config);
    const plain = await run(false, config);
    expect(fused.r.path).toBe('fused:wasm-simd-mlp');
    expect(fused.r.acceleratorDeclined).toBeUndefined();
    expect(plain.r.path).toBe('tfjs');
    expect(fused.r.lossHistory.length).toBe(plain.r.lossHistory.length);
    expect(
      worstRelative(
        fused.r.lossHistory.map((h) => h.loss),
        plain.r.lossHistory.map((h) => h.loss),
      ),
    ).toBeLessThan(1e-3);
    for (let i = 0; i < fused.w.length; i++) expect(maxAbsDiff(fused.w[i], plain.w[i])).toBeLessThan(1e-3);
  });
});
