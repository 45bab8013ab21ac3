import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { assertSamplerObjective, flowModelTime, makeFlowTrainingBatch, velocityToEpsilonAndX0 } from './flow.js';
import { minibatchOtPairing } from './minibatch-ot.js';
import { parseOptions } from './options.js';
import { Rng } from './rng.js';
import { generateSamples, makeDenoiseFn } from './sample.js';
import { scheduleFromBetas } from './schedule.js';
import type { DenoiserModel, Sampler } from './spec.js';
import { train } from './train.js';
import { trainingSchema } from './training-config.js';
import type { TrainBatch, TrainingPath } from './training-path.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
const schedule = scheduleFromBetas('linear', linspace(1e-4, 0.02, 100));

describe('flow-matching batch (Lipman et al. 2023 eq. 22–23)', () => {
  it('replays as t ~ U[0, 1) then ε per value: xₜ = (1 − t)·x₀ + t·ε, target ε − x₀, time input t·T', () => {
    const x0 = Float32Array.from([0.3, -1.2, 2.5, 0.7, -0.4, 1.1]);
    const rows = [2, 0, 1];
    const batch = makeFlowTrainingBatch(x0, rows, 2, 100, new Rng(9));
    const replay = new Rng(9);
    for (let i = 0; i < rows.length; i++) {
      const t = replay.uniform();
      expect(batch.t[i]).toBe(Math.fround(t * 100));
      for (let j = 0; j < 2; j++) {
        const x = x0[rows[i] * 2 + j];
        const e = replay.normal();
        expect(batch.xt[i * 2 + j]).toBe(Math.fround((1 - t) * x + t * e));
        expect(batch.target[i * 2 + j]).toBe(Math.fround(e - x));
      }
    }
    expect(batch.weight).toBeUndefined();
    expect(batch.size).toBe(3);
  });

  it('draws t logit-normal on request: t = sigmoid(u), u ~ N(0, 1), replayed from the same stream', () => {
    const batch = makeFlowTrainingBatch(Float32Array.from([0.5]), [0, 0, 0], 1, 10, new Rng(2), { timeSampling: 'logit-normal' });
    const replay = new Rng(2);
    for (let i = 0; i < 3; i++) {
      const t = 1 / (1 + Math.exp(-replay.normal()));
      expect(batch.t[i]).toBe(Math.fround(t * 10));
      const e = replay.normal();
      expect(batch.xt[i]).toBe(Math.fround((1 - t) * 0.5 + t * e));
    }
  });

  it('has the path moments: E[t] = ½, E[xₜ] = ½·x₀, E[target] = −x₀, Var(target) = 1 (fixed x₀, within 5 standard errors)', () => {
    const n = 20_000;
    const x0 = new Float32Array(n).fill(1.5);
    const batch = makeFlowTrainingBatch(
      x0,
      Uint32Array.from({ length: n }, (_, i) => i),
      1,
      1,
      new Rng(3),
    );
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    const tMean = mean(batch.t);
    expect(Math.abs(tMean - 0.5)).toBeLessThan((5 * Math.sqrt(1 / 12)) / Math.sqrt(n));
    // Var(xₜ) = Var((1−t)·1.5 + t·ε) = 1.5²·Var(t) + E[t²] = 2.25/12 + 1/3.
    const xtSe = Math.sqrt(2.25 / 12 + 1 / 3) / Math.sqrt(n);
    expect(Math.abs(mean(batch.xt) - 0.75)).toBeLessThan(5 * xtSe);
    const m = mean(batch.target);
    expect(Math.abs(m + 1.5)).toBeLessThan(5 / Math.sqrt(n));
    const v = Array.from(batch.target).reduce((s, x) => s + (x - m) ** 2, 0) / n;
    expect(Math.abs(v - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });
});

describe('flow-matching batch with minibatch-OT coupling (Tong et al. 2024, Alg. 1)', () => {
  const replayOt = (x0: Float32Array, rows: number[], d: number, seed: number, labels?: number[]) => {
    const replay = new Rng(seed);
    const times = rows.map(() => replay.uniform());
    const noise = Float64Array.from({ length: rows.length * d }, () => replay.normal());
    const data = Float32Array.from(rows.flatMap((r) => Array.from(x0.subarray(r * d, r * d + d))));
    return { times, noise, pairing: minibatchOtPairing(data, noise, d, labels) };
  };

  it('draws every t, then every ε, and pairs row i with the OT plan’s noise row: xₜ = (1 − t)·x₀ + t·ε_π(i), target ε_π(i) − x₀', () => {
    const rng = new Rng(21);
    const d = 2;
    const x0 = Float32Array.from({ length: 12 * d }, () => rng.normal() * 2);
    const rows = [5, 0, 11, 3, 3, 8, 1, 9];
    const batch = makeFlowTrainingBatch(x0, rows, d, 100, new Rng(9), { coupling: 'minibatch-ot' });
    const { times, noise, pairing } = replayOt(x0, rows, d, 9);
    expect(new Set(pairing).size).toBe(rows.length);
    expect(Array.from(pairing)).not.toEqual(rows.map((_, i) => i)); // the plan re-pairs: not the independent draw
    for (let i = 0; i < rows.length; i++) {
      expect(batch.t[i]).toBe(Math.fround(times[i] * 100));
      for (let j = 0; j < d; j++) {
        const x = x0[rows[i] * d + j];
        const e = noise[pairing[i] * d + j];
        expect(batch.xt[i * d + j]).toBe(Math.fround((1 - times[i]) * x + times[i] * e));
        expect(batch.target[i * d + j]).toBe(Math.fround(e - x));
      }
    }
  });

  it('pairs within each label when given the batch labels', () => {
    const x0 = Float32Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? -2 : 2) + i / 100);
    const rows = Array.from({ length: 16 }, (_, i) => i);
    const labels = rows.map((i) => i % 2);
    const batch = makeFlowTrainingBatch(x0, rows, 1, 10, new Rng(5), { coupling: 'minibatch-ot', labels });
    const { noise, pairing } = replayOt(x0, rows, 1, 5, labels);
    for (let i = 0; i < 16; i++) {
      expect(labels[pairing[i]]).toBe(labels[i]);
      expect(batch.target[i]).toBe(Math.fround(noise[pairing[i]] - x0[i]));
    }
  });
});

describe("a flow model's (ε̂, x̂₀) view", () => {
  it('velocityToEpsilonAndX0 inverts the path exactly: v = ε − x₀ gives back x₀ and ε at any t', () => {
    const x0 = [0.4, -2, 1.3];
    const eps = [-0.7, 0.2, 1.9];
    for (const t of [0, 0.1, 0.5, 0.93, 1]) {
      const out = tf.tidy(() => {
        const xt = tf.tensor1d(x0.map((x, i) => (1 - t) * x + t * eps[i]));
        const v = tf.tensor1d(x0.map((x, i) => eps[i] - x));
        const r = velocityToEpsilonAndX0(v, xt, t);
        return [r.x0.arraySync() as number[], r.eps.arraySync() as number[]];
      });
      out[0].forEach((x, i) => expect(x).toBeCloseTo(x0[i], 5));
      out[1].forEach((e, i) => expect(e).toBeCloseTo(eps[i], 5));
    }
  });

  it('makeDenoiseFn feeds the network t·T and reads its output as a velocity', () => {
    const seen: number[] = [];
    // A "network" that outputs v = 2·x + t_in (t_in the time input it receives).
    const model: Pick<DenoiserModel, 'predict'> = {
      predict: (x, t) => {
        seen.push(...(t.dataSync() as Float32Array));
        return tf.tidy(() => tf.add(tf.mul(x, 2), tf.reshape(t, [-1, 1])));
      },
    };
    const denoise = makeDenoiseFn(model, schedule, 'epsilon', 'flow');
    const before = tf.memory().numTensors;
    const [x0, eps] = tf.tidy(() => {
      const r = denoise(tf.tensor2d([[1], [-1]]), 0.25);
      return [r.x0.arraySync() as number[][], r.eps.arraySync() as number[][]];
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(seen).toEqual([flowModelTime(0.25, 100), 25]);
    // v = 2x + 25; x̂₀ = x − t·v, ε̂ = x + (1 − t)·v.
    expect(x0.flat()).toEqual([1 - 0.25 * 27, -1 - 0.25 * 23]);
    expect(eps.flat()).toEqual([1 + 0.75 * 27, -1 + 0.75 * 23]);
  });
});

/** A sampler stub declaring `objectives`, for the refusal checks. */
function stub(name: string, objectives?: Sampler['objectives']): Sampler {
  return {
    name,
    defaultSteps: 1,
    objectives,
    timesteps: () => [0],
    async sample({ n, shape }) {
      return { x: tf.zeros([n, ...shape]), nfe: 0 };
    },
  };
}

describe('sampler objectives', () => {
  it('refuses a DDPM-family sampler for a flow model and a flow sampler for a DDPM model, naming sampler.use, training.objective and the fix', () => {
    const refusal = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no refusal');
    };
    const a = refusal(() => assertSamplerObjective(stub('ddpm'), 'flow', ['flow-euler', 'flow-heun']));
    expect(a).toBeInstanceOf(ConfigError);
    expect(a.issues[0].path).toBe('sampler.use');
    expect(a.message).toMatch(/"ddpm" integrates DDPM-family models .* training\.objective is flow/);
    expect(a.hint).toBe('use sampler.use=flow-euler or sampler.use=flow-heun, or train with training.objective=ddpm');
    const b = refusal(() => assertSamplerObjective(stub('mine', ['flow']), 'ddpm'));
    expect(b.message).toMatch(/"mine" integrates flow-matching models .* training\.objective is ddpm/);
    expect(b.hint).toMatch(/diffusionlab list sampler.*training\.objective=flow/);
    expect(() => assertSamplerObjective(stub('both', ['ddpm', 'flow']), 'flow')).not.toThrow();
    expect(() => assertSamplerObjective(stub('old'), 'ddpm')).not.toThrow();
  });

  it('generateSamples refuses the mismatch before any model call', async () => {
    let calls = 0;
    const model = { predict: (x: tf.Tensor) => (calls++, tf.zerosLike(x)) };
    const go = (sampler: Sampler, objective?: 'ddpm' | 'flow') =>
      generateSamples({ model, sampler, schedule, predictionType: 'epsilon', objective, shape: [1], n: 2, rng: new Rng(1) });
    await expect(go(stub('ddpm'), 'flow')).rejects.toThrow(/training\.objective is flow/);
    await expect(go(stub('flowy', ['flow']))).rejects.toThrow(/training\.objective is ddpm/);
    expect(calls).toBe(0);
  });
});

describe('training.objective in the training schema', () => {
  it('defaults to ddpm and refuses the options flow has no meaning for, at their keys', () => {
    expect(parseOptions(trainingSchema, {}, 'training').objective).toBe('ddpm');
    expect(parseOptions(trainingSchema, { objective: 'flow' }, 'training').objective).toBe('flow');
    const bad = (raw: Record<string, unknown>) => {
      try {
        parseOptions(trainingSchema, raw, 'training');
      } catch (e) {
        return (e as ConfigError).issues;
      }
      throw new Error('accepted');
    };
    expect(bad({ objective: 'flow', predictionType: 'v' })).toEqual([{ path: 'training.predictionType', message: expect.stringMatching(/objective ddpm only/) }]);
    expect(bad({ objective: 'flow', lossWeighting: 'min-snr' })).toEqual([{ path: 'training.lossWeighting', message: expect.stringMatching(/lossWeighting=none/) }]);
    expect(bad({ objective: 'score' })[0]).toMatchObject({ path: 'training.objective', choices: ['ddpm', 'flow'] });
    expect(bad({ flowTimeSampling: 'logit-normal' })).toEqual([{ path: 'training.flowTimeSampling', message: expect.stringMatching(/training\.objective flow only/) }]);
    expect(bad({ flowCoupling: 'minibatch-ot' })).toEqual([{ path: 'training.flowCoupling', message: expect.stringMatching(/training\.objective flow only/) }]);
    expect(bad({ objective: 'flow', flowCoupling: 'sinkhorn' })[0]).toMatchObject({ path: 'training.flowCoupling', choices: ['independent', 'minibatch-ot'] });
  });
});

describe('train() with objective flow', () => {
  const recorder = (batches: TrainBatch[]): TrainingPath => ({
    path: 'recording',
    step: (b) => void batches.push(b),
    emaUpdate: () => {},
    takeLossSum: async () => 0,
    snapshot: async () => ({ weights: [], optimizer: [] }),
    restore: async () => {},
    withSamplingWeights: async (fn) => void (await fn()),
    finish: () => {},
    dispose: () => {},
  });

  it('with flowCoupling minibatch-ot pairs each batch optimally, and a conditional model within each label', async () => {
    const count = 64;
    // Label 0 near −2, label 1 near +2: pairing the whole batch would give label 0 all the smallest ε.
    const data = Float32Array.from({ length: count }, (_, i) => (i % 2 === 0 ? -2 : 2) + i / 1000);
    const labels = Int32Array.from({ length: count }, (_, i) => i % 2);
    const run = async (conditional: boolean) => {
      const batches: TrainBatch[] = [];
      const model = {
        architecture: 'none',
        variables: [],
        parameterCount: 0,
        predict: (x: tf.Tensor) => x,
        save: async () => ({}),
        dispose: () => {},
        ...(conditional ? { labelNames: ['low', 'high'] } : {}),
      };
      await train({
        model,
        trainingSet: { data, count, labels },
        shape: [1],
        schedule,
        config: { objective: 'flow', flowCoupling: 'minibatch-ot', epochs: 1, batchSize: 32 },
        conditioning: { dropout: 0 },
        rng: new Rng(4),
        accelerator: { name: 'rec', create: () => recorder(batches) },
      });
      expect(batches.length).toBe(2);
      return batches.map((b) =>
        Array.from({ length: b.size }, (_, i) => {
          const tau = b.t[i] / 100;
          const x0 = b.xt[i] - tau * b.target[i];
          return { x0, eps: x0 + b.target[i], label: b.labels ? b.labels[i] : x0 < 0 ? 0 : 1 };
        }),
      );
    };
    const sortedToSorted = (rows: { x0: number; eps: number }[]) => {
      const byX = rows.slice().sort((a, b) => a.x0 - b.x0);
      for (let k = 1; k < byX.length; k++) expect(byX[k].eps).toBeGreaterThan(byX[k - 1].eps);
    };
    for (const batch of await run(false)) {
      sortedToSorted(batch); // the one-dimensional OT plan over the whole batch
      const maxLow = Math.max(...batch.filter((r) => r.label === 0).map((r) => r.eps));
      const minHigh = Math.min(...batch.filter((r) => r.label === 1).map((r) => r.eps));
      expect(maxLow).toBeLessThan(minHigh);
    }
    for (const batch of await run(true)) {
      for (const g of [0, 1]) sortedToSorted(batch.filter((r) => r.label === g));
      const maxLow = Math.max(...batch.filter((r) => r.label === 0).map((r) => r.eps));
      const minHigh = Math.min(...batch.filter((r) => r.label === 1).map((r) => r.eps));
      expect(maxLow).toBeGreaterThan(minHigh); // each label drew its own N(0, 1) noise
    }
  });

  it('hands the training path flow batches: every row satisfies xₜ − τ·target = x₀ of a training point, τ = t/T ∈ [0, 1)', async () => {
    const count = 64;
    const data = Float32Array.from({ length: count }, (_, i) => -2 + (4 * i) / (count - 1));
    const batches: TrainBatch[] = [];
    const recording: TrainingPath = {
      path: 'recording',
      step: (b) => void batches.push(b),
      emaUpdate: () => {},
      takeLossSum: async () => 0,
      snapshot: async () => ({ weights: [], optimizer: [] }),
      restore: async () => {},
      withSamplingWeights: async (fn) => void (await fn()),
      finish: () => {},
      dispose: () => {},
    };
    const model = { architecture: 'none', variables: [], parameterCount: 0, predict: (x: tf.Tensor) => x, save: async () => ({}), dispose: () => {} };
    const r = await train({
      model,
      trainingSet: { data, count },
      shape: [1],
      schedule,
      config: { objective: 'flow', epochs: 2, batchSize: 16 },
      rng: new Rng(4),
      accelerator: { name: 'rec', create: () => recording },
    });
    expect(r.path).toBe('recording');
    expect(batches.length).toBe(8);
    for (const b of batches) {
      for (let i = 0; i < b.size; i++) {
        const tau = b.t[i] / 100;
        expect(tau).toBeGreaterThanOrEqual(0);
        expect(tau).toBeLessThan(1);
        const x0 = b.xt[i] - tau * b.target[i];
        const nearest = Math.min(...Array.from(data, (d) => Math.abs(d - x0)));
        expect(nearest).toBeLessThan(1e-4);
      }
    }
  });
});
