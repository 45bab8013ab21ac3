// Issue 19: the fused residual MLP runs class-conditional models (e = act(L_time(emb t) + C[y]), the
// null class K without labels), checked against the tfjs reference written op for op like the `mlp`
// denoiser (one-hot(y)·C): gradients (C's too), predict (incl. guidance's [y; ∅] batch), a loss
// curve, core's train() with label dropout, and an exact resume.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ResidualMlpDescription, Rng, scheduleFromBetas, train, type TrainBatch, type TrainState } from '@diffusionlab/core';
import type { AcceleratorTrainOptions } from './fused-adam.js';
import { createFusedPredictModel } from './fused-model.js';
import { createFusedResidualMlpTrainer, type FusedResidualMlpTrainer } from './residual-train.js';
import { createFusedTrainer, mlpTrainAccelerator } from './train-accelerator.js';
import { randomBatch } from './test/mlp-fixture.js';
import { asResidualModel, disposeResidual, makeResidual, referenceResidualForward, type ResidualOptions, residualVariables } from './test/residual-fixture.js';
import { maxAbs, maxAbsDiff, relErr } from './test/compare.js';

const ADAM: AcceleratorTrainOptions = { optimizer: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, backend: 'cpu' };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function opts(o: Partial<ResidualOptions> = {}): ResidualOptions {
  return { activation: 'silu', dataDim: 2, width: 16, depth: 2, timeEmbedding: 8, numTrainTimesteps: 1000, inputEmbedding: 0, ...o };
}

/** A batch whose rows have classes in [0, K] (K, the null class, included). */
function labelledBatch(n: number, D: number, K: number, rng: Rng): TrainBatch & { labels: Int32Array } {
  return { ...randomBatch(n, D, rng, 1000), labels: Int32Array.from({ length: n }, (_, i) => (i % 5 === 4 ? K : rng.int(K + 1))) };
}

/** tfjs reference loss and per-variable gradients (tf.variableGrads), C last. */
function referenceGrads(d: ResidualMlpDescription, batch: TrainBatch) {
  return tf.tidy(() => {
    const n = batch.size;
    const D = d.dataDim;
    const xt = tf.tensor2d(batch.xt, [n, D]);
    const t = tf.tensor1d(batch.t);
    const y = batch.labels ? tf.tensor1d(batch.labels, 'int32') : undefined;
    const target = tf.tensor2d(batch.target, [n, D]);
    const vars = residualVariables(d);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(referenceResidualForward(d, xt, t, y), target)) as tf.Scalar, vars);
    return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync().slice()) };
  });
}

function trainer(d: ResidualMlpDescription, o: Partial<AcceleratorTrainOptions> = {}): FusedResidualMlpTrainer {
  const made = createFusedResidualMlpTrainer(d, { ...ADAM, ...o });
  if (typeof made === 'string') throw new Error(made);
  return made;
}

/** The kernel's gradients in variable order (dense layers, then C). */
function fusedGrads(tr: FusedResidualMlpTrainer): Float32Array[] {
  return [...tr.readGradients().flatMap((g) => [g.kernel, g.bias]), tr.readClassGradient() as Float32Array];
}

describe('conditional fused residual MLP: one step against tf.variableGrads', () => {
  const cases = [
    { act: 'silu', depth: 2, D: 2, width: 16, F: 0, K: 3, n: 23 },
    { act: 'gelu', depth: 1, D: 1, width: 13, F: 2, K: 2, n: 9 },
    { act: 'relu', depth: 3, D: 2, width: 24, F: 0, K: 10, n: 40 },
    { act: 'tanh', depth: 1, D: 3, width: 8, F: 1, K: 1, n: 70 },
  ] as const;
  for (const c of cases) {
    it(`${c.act}, depth ${c.depth}, D=${c.D}, width ${c.width}, F=${c.F}, ${c.K} classes, ${c.n} rows: loss and every gradient (C's too) within 1e-4 relative`, () => {
      const d = makeResidual(opts({ activation: c.act, depth: c.depth, dataDim: c.D, width: c.width, timeEmbedding: 10, inputEmbedding: c.F }), 11, c.K);
      const batch = labelledBatch(c.n, c.D, c.K, new Rng(5));
      const ref = referenceGrads(d, batch);
      const tr = trainer(d);
      const loss = tr.computeGradients(batch);
      expect(Math.abs(loss - ref.loss) / ref.loss).toBeLessThan(1e-5);
      const got = fusedGrads(tr);
      expect(got.length).toBe(ref.grads.length);
      const scale = Math.max(...ref.grads.map(maxAbs));
      got.forEach((g, i) => expect(maxAbsDiff(g, ref.grads[i])).toBeLessThan(1e-5 * scale));
      // C's gradient on its own scale: rows of classes absent from the batch are exactly 0
      const gc = got[got.length - 1];
      const refC = ref.grads[ref.grads.length - 1];
      expect(maxAbs(refC)).toBeGreaterThan(0);
      expect(maxAbsDiff(gc, refC) / maxAbs(refC)).toBeLessThan(1e-4);
      for (let k = 0; k <= c.K; k++) {
        if (!batch.labels.includes(k)) expect(maxAbs(gc.subarray(k * c.width, (k + 1) * c.width))).toBe(0);
      }
      tr.dispose();
      disposeResidual(d);
    });
  }

  it('without labels every row is the null class K (the model’s unconditional prediction)', () => {
    const d = makeResidual(opts(), 4, 3);
    const b = labelledBatch(12, 2, 3, new Rng(2));
    const unlabelled = { xt: b.xt, t: b.t, target: b.target, size: b.size };
    const tr = trainer(d);
    const loss = tr.computeGradients(unlabelled);
    const asNull = trainer(d);
    expect(asNull.computeGradients({ ...unlabelled, labels: new Int32Array(12).fill(3) })).toBe(loss);
    expect(Array.from(tr.readClassGradient() as Float32Array)).toEqual(Array.from(asNull.readClassGradient() as Float32Array));
    const ref = referenceGrads(d, unlabelled);
    expect(Math.abs(loss - ref.loss) / ref.loss).toBeLessThan(1e-5);
    expect(() => tr.computeGradients({ ...unlabelled, labels: new Int32Array(12).fill(4) })).toThrow(/label 4 is outside \[0, 3\]/);
    [tr, asNull].forEach((x) => x.dispose());
    disposeResidual(d);
  });
});

/** The plain tfjs Adam loop (core's tfjs path) with labels: per-step losses. */
function referenceRun(d: ResidualMlpDescription, batches: TrainBatch[], o: AcceleratorTrainOptions): number[] {
  const optimizer = tf.train.adam(o.learningRate, o.beta1, o.beta2, o.epsilon);
  const vars = residualVariables(d);
  const D = d.dataDim;
  const losses = batches.map((b) =>
    tf.tidy(() => {
      const xt = tf.tensor2d(b.xt, [b.size, D]);
      const t = tf.tensor1d(b.t);
      const y = b.labels ? tf.tensor1d(b.labels, 'int32') : undefined;
      const target = tf.tensor2d(b.target, [b.size, D]);
      const { value, grads } = optimizer.computeGradients(() => tf.mean(tf.squaredDifference(referenceResidualForward(d, xt, t, y), target)) as tf.Scalar, vars);
      optimizer.applyGradients(grads);
      return value.dataSync()[0];
    }),
  );
  optimizer.dispose();
  return losses;
}

describe('conditional fused residual Adam matches the plain tfjs loop', () => {
  it('150 steps on a labelled 2-D mixture (20% null labels): loss curve within 1e-3 relative; final weights and C close', () => {
    const rng = new Rng(3);
    const batches = Array.from({ length: 150 }, () => {
      const b = labelledBatch(32, 2, 2, rng);
      // the target depends on the class, so C has something to learn
      for (let i = 0; i < 32; i++) if (b.labels[i] < 2) b.target[2 * i] += b.labels[i] === 0 ? -1 : 1;
      return b;
    });
    const o = opts({ width: 32, depth: 2, timeEmbedding: 16 });
    const a = makeResidual(o, 21, 2);
    const b = makeResidual(o, 21, 2);
    const ref = referenceRun(a, batches, ADAM);
    const tr = trainer(b);
    const losses = batches.map((x) => (tr.step(x), tr.takeLossSum()));
    expect(losses.slice(140).reduce((s, v) => s + v)).toBeLessThan(losses.slice(0, 10).reduce((s, v) => s + v));
    let worst = 0;
    for (let i = 0; i < losses.length; i++) worst = Math.max(worst, Math.abs(losses[i] - ref[i]) / ref[i]);
    expect(worst).toBeLessThan(1e-3);
    const w = [...tr.weights().flatMap((l) => [l.kernel, l.bias]), tr.classWeights() as Float32Array];
    residualVariables(a).forEach((v, i) => expect(maxAbsDiff(w[i], v.dataSync())).toBeLessThan(1e-3));
    // C moved (it trained), and syncToModel writes it into the model's variable exactly
    expect(maxAbsDiff(w[w.length - 1], b.classEmbedding?.dataSync() as Float32Array)).toBeGreaterThan(1e-3);
    tr.syncToModel();
    expect(Array.from(b.classEmbedding?.dataSync() as Float32Array)).toEqual(Array.from(w[w.length - 1]));
    tr.dispose();
    disposeResidual(a);
    disposeResidual(b);
  });
});

describe('conditional fused residual predict', () => {
  it('matches model.predict within 1e-5: per-row labels, no labels (null class), guidance’s [y; ∅] batch, one t and per-row t; no leaks', () => {
    for (const [o, K] of [
      [opts({ width: 32, depth: 3, timeEmbedding: 16 }), 3],
      [opts({ activation: 'gelu', dataDim: 1, width: 20, depth: 1, inputEmbedding: 2, numTrainTimesteps: 100 }), 10],
      [opts({ activation: 'relu', dataDim: 3, width: 9, depth: 2, timeEmbedding: 6, numTrainTimesteps: 50 }), 1],
    ] as const) {
      const model = asResidualModel(makeResidual(o, 8, K));
      const f = createFusedPredictModel(model, { residual: true });
      if (typeof f === 'string') throw new Error(f);
      const rng = new Rng(4);
      const n = 75; // guidance doubles it: more than two 64-row tiles
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const x = tf.tensor2d(rng.normalArray(n * o.dataDim), [n, o.dataDim]);
        const y = tf.tensor1d(
          Int32Array.from({ length: n }, (_, i) => (i * 7) % (K + 1)),
          'int32',
        );
        const T = o.numTrainTimesteps;
        for (const t of [tf.fill([n], T - 1), tf.fill([n], 0), tf.tensor1d(Float32Array.from({ length: n }, (_, i) => (i * 7) % T)), tf.fill([n], 12.5)]) {
          expect(relErr(f.predict(x, t, y).dataSync(), model.predict(x, t, y).dataSync())).toBeLessThan(1e-5);
          expect(relErr(f.predict(x, t).dataSync(), model.predict(x, t).dataSync())).toBeLessThan(1e-5);
          // core's guided call: [xₜ; xₜ] with labels [y; ∅] at one t
          const both = tf.concat([x, x], 0);
          const yy = tf.concat([y, tf.fill([n], K, 'int32')], 0);
          const tt = tf.concat([t, t], 0);
          expect(relErr(f.predict(both, tt, yy).dataSync(), model.predict(both, tt, yy).dataSync())).toBeLessThan(1e-5);
        }
        // a class changes the prediction
        const a = f.predict(x, tf.fill([n], 10), tf.fill([n], 0, 'int32')).dataSync();
        const b = f.predict(x, tf.fill([n], 10), tf.fill([n], 1, 'int32')).dataSync();
        expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
        expect(() => f.predict(x, tf.fill([n], 10), tf.fill([n], K + 1, 'int32'))).toThrow(/outside/);
      });
      expect(tf.memory().numTensors).toBe(before);
      f.dispose();
      model.dispose();
    }
  });
});

describe('what the fused kernels still decline', () => {
  it('a conditional model whose description has no class embedding or the wrong number of rows, and a class embedding without labelNames', () => {
    const d = makeResidual(opts(), 1, 3);
    const model = asResidualModel(d);
    const { classEmbedding, ...bare } = d;
    expect(createFusedTrainer({ ...model, describe: () => bare }, ADAM)).toMatch(/class-conditional \(3 classes\)/);
    expect(createFusedPredictModel({ ...model, describe: () => bare }, { residual: true })).toMatch(/class-conditional/);
    expect(createFusedTrainer({ ...model, labelNames: ['a', 'b'] }, ADAM)).toMatch(/2 classes but its class embedding has 4 rows/);
    expect(createFusedTrainer({ ...model, labelNames: undefined }, ADAM)).toMatch(/class embedding but has no labelNames/);
    expect(createFusedResidualMlpTrainer({ ...d, classEmbedding: d.out.kernel }, ADAM)).toMatch(/class embedding is \[16,2\], expected \[K \+ 1, 16\]/);
    expect(classEmbedding).toBeDefined();
    expect(createFusedTrainer(model, ADAM)).not.toBeTypeOf('string');
    model.dispose();
  });
});

describe("core's train() on a conditional residual MLP (label dropout 0.2)", () => {
  const rng = new Rng(79);
  const data = Float32Array.from({ length: 512 }, (_, i) => (i % 4 < 2 ? 1.5 : -1.5) + 0.3 * rng.normal());
  const labels = Int32Array.from({ length: 256 }, (_, i) => (i % 2 === 0 ? 0 : 1));
  const schedule = scheduleFromBetas(
    'linear',
    Float64Array.from({ length: 1000 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 999),
  );
  const config = {
    epochs: 12,
    batchSize: 32,
    learningRate: 2e-3,
    optimizer: 'adamw' as const,
    weightDecay: 0.01,
    lrSchedule: 'cosine' as const,
    emaDecay: 0.95,
    checkpointEvery: 4,
    predictionType: 'epsilon' as const,
    logEvery: 100,
    epsilon: 1e-8,
  };
  const run = async (accelerate: boolean, resumeFrom?: TrainState) => {
    const states: TrainState[] = [];
    const m = asResidualModel(makeResidual(opts({ width: 32, depth: 2, timeEmbedding: 16 }), 33, 2));
    const before = tf.memory().numTensors;
    const r = await train({
      model: m,
      trainingSet: { data, count: 256, labels },
      shape: [2],
      schedule,
      config,
      conditioning: { enabled: true, dropout: 0.2 },
      rng: new Rng(4),
      accelerator: accelerate ? mlpTrainAccelerator : undefined,
      resumeFrom,
      onCheckpoint: (st) => void states.push(st),
    });
    expect(tf.memory().numTensors).toBe(before);
    const w = m.variables.map((v) => v.dataSync().slice());
    m.dispose();
    return { r, w, states };
  };

  it('follows the tfjs path’s loss history and weights (C included), and a fused resume lands on the exact same weights', async () => {
    const fused = await run(true);
    const plain = await run(false);
    expect(fused.r.path).toBe('fused:wasm-simd-mlp');
    expect(fused.r.acceleratorDeclined).toBeUndefined();
    expect(plain.r.path).toBe('tfjs');
    expect(fused.r.lossHistory.length).toBe(12);
    fused.r.lossHistory.forEach((h, i) => expect(Math.abs(h.loss - plain.r.lossHistory[i].loss) / plain.r.lossHistory[i].loss).toBeLessThan(1e-3));
    expect(fused.w.length).toBe(plain.w.length);
    for (let i = 0; i < fused.w.length; i++) expect(maxAbsDiff(fused.w[i], plain.w[i])).toBeLessThan(1e-3);
    // the state holds C's Adam moments too (the tfjs layout: iteration, then m and v per variable)
    expect(fused.states[0].optimizer.length).toBe(1 + 2 * fused.w.length);
    const resumed = await run(true, fused.states[0]);
    expect(resumed.r.path).toBe('fused:wasm-simd-mlp');
    expect(resumed.r.resumedFromStep).toBe(32);
    expect(resumed.r.lossHistory).toEqual(fused.r.lossHistory);
    for (let i = 0; i < fused.w.length; i++) expect(maxAbsDiff(resumed.w[i], fused.w[i])).toBe(0);
    // a fused checkpoint resumes on tfjs too, within float noise
    const onTfjs = await run(false, fused.states[0]);
    for (let i = 0; i < fused.w.length; i++) expect(maxAbsDiff(onTfjs.w[i], fused.w[i])).toBeLessThan(1e-3);
  });
});
