import '@tensorflow/tfjs-backend-cpu';
import {
  alphaBarAt,
  artifactsToFiles,
  type Dataset,
  type DenoiserBuildContext,
  filesToArtifacts,
  type GaussianMixtureInfo,
  PluginError,
  type PredictionType,
  Rng,
  scheduleFromBetas,
} from '@diffusionlab/core';
import { conformanceSchedule, denoiserContext, predictValues } from '@diffusionlab/testkit';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOracle, loadOracle, oracleDenoiser } from './oracle.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The reference data: ½ N(−2, 0.5²) + ½ N(2, 0.5²); an asymmetric variant exercises the weights. */
const seedMixture: GaussianMixtureInfo = { weights: [0.5, 0.5], means: [[-2], [2]], stds: [[0.5], [0.5]] };
const skewMixture: GaussianMixtureInfo = { weights: [0.3, 0.7], means: [[-1.5], [2]], stds: [[0.3], [0.8]] };

function fakeDataset(shape: number[], mixture?: GaussianMixtureInfo): Dataset {
  return { name: 'fake', shape, info: mixture ? { mixture } : {}, load: () => ({ data: new Float32Array(0), count: 0 }), reference: () => new Float32Array(0) };
}

function ctxWith(shape: number[], extra: Partial<DenoiserBuildContext>, type: PredictionType = 'sample'): DenoiserBuildContext {
  return { ...denoiserContext(shape, 1, type), ...extra };
}

/** E[x₀|xₜ] by brute-force quadrature (Simpson on a fine grid) of x₀·p(x₀)·N(xₜ; √ᾱx₀, 1−ᾱ). */
function quadraturePosteriorMean(m: GaussianMixtureInfo, xt: number, ab: number): number {
  const lo = -10;
  const hi = 10;
  const steps = 40000; // h = 5e-4, ≥ 20 points per likelihood width even at t = 0 (σ = 0.01)
  const h = (hi - lo) / steps;
  const sa = Math.sqrt(ab);
  const noise = 1 - ab;
  let num = 0;
  let den = 0;
  for (let i = 0; i <= steps; i++) {
    const x0 = lo + i * h;
    let prior = 0;
    for (let k = 0; k < m.weights.length; k++) {
      const s = m.stds[k][0];
      const z = (x0 - m.means[k][0]) / s;
      prior += (m.weights[k] * Math.exp(-0.5 * z * z)) / (s * Math.sqrt(2 * Math.PI));
    }
    const r = xt - sa * x0;
    const lik = Math.exp((-0.5 * r * r) / noise);
    const wgt = i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2;
    num += wgt * x0 * prior * lik;
    den += wgt * prior * lik;
  }
  return num / den;
}

function targetFromX0(type: PredictionType, xt: number, x0: number, ab: number): number {
  const eps = (xt - Math.sqrt(ab) * x0) / Math.sqrt(1 - ab);
  return type === 'sample' ? x0 : type === 'epsilon' ? eps : Math.sqrt(ab) * eps - Math.sqrt(1 - ab) * x0;
}

describe('oracle', () => {
  const schedule = conformanceSchedule(100);

  for (const [label, mixture] of [
    ['seed mixture', seedMixture],
    ['skewed mixture', skewMixture],
  ] as const) {
    it(`matches brute-force quadrature for a 1-D ${label} at several t, for every prediction type`, () => {
      const xs = [-3, -2.1, -0.7, 0, 0.4, 1.9, 3.2];
      const ts = [0, 3, 10, 37.5, 60, 99];
      const memo = new Map<string, number>();
      const posterior = (x: number, t: number, ab: number) => {
        const key = `${x}@${t}`;
        if (!memo.has(key)) memo.set(key, quadraturePosteriorMean(mixture, x, ab));
        return memo.get(key) as number;
      };
      for (const type of ['sample', 'epsilon', 'v'] as const) {
        const m = buildOracle({ source: 'auto' }, ctxWith([1], { dataset: fakeDataset([1], mixture) }, type));
        for (const t of ts) {
          const x = Float32Array.from(xs);
          const out = predictValues(m, [1], x, new Float32Array(xs.length).fill(t));
          const ab = alphaBarAt(schedule, t);
          for (let i = 0; i < xs.length; i++) {
            const ref = targetFromX0(type, x[i], posterior(x[i], t, ab), ab);
            expect(Math.abs(out.values[i] - ref), `${type} t=${t} x=${xs[i]}`).toBeLessThan(2e-5 * Math.max(1, Math.abs(ref)));
          }
        }
        m.dispose();
      }
    });
  }

  it("equals Tweedie's formula for a single diagonal Gaussian (2-D)", () => {
    const g: GaussianMixtureInfo = { weights: [1], means: [[0.5, -1]], stds: [[2, 0.25]] };
    const m = buildOracle({ source: 'mixture' }, ctxWith([2], { dataset: fakeDataset([2], g) }));
    const rng = new Rng(2);
    const x = rng.normalArray(16);
    const t = Float32Array.from({ length: 8 }, (_, i) => i * 14);
    const out = predictValues(m, [2], x, t);
    for (let i = 0; i < 8; i++) {
      const ab = alphaBarAt(schedule, t[i]);
      for (let d = 0; d < 2; d++) {
        // Tweedie: E[x₀|xₜ] = (xₜ + (1−ᾱ)∇log p(xₜ))/√ᾱ with p(xₜ) = N(√ᾱμ, ᾱs² + 1−ᾱ).
        const v = ab * g.stds[0][d] ** 2 + 1 - ab;
        const score = -(x[2 * i + d] - Math.sqrt(ab) * g.means[0][d]) / v;
        const ref = (x[2 * i + d] + (1 - ab) * score) / Math.sqrt(ab);
        expect(out.values[2 * i + d]).toBeCloseTo(ref, 5);
      }
    }
    m.dispose();
  });

  it('over a finite set equals the direct softmax-weighted average (per-row t)', () => {
    const rng = new Rng(3);
    const N = 50;
    const D = 3;
    const data = rng.normalArray(N * D);
    const m = buildOracle({ source: 'training-set' }, ctxWith([D], { trainingSet: { data, count: N } }, 'epsilon'));
    const n = 6;
    const x = rng.normalArray(n * D);
    const t = Float32Array.from([5, 20, 20, 45.5, 70, 99]);
    const out = predictValues(m, [D], x, t);
    for (let r = 0; r < n; r++) {
      const ab = alphaBarAt(schedule, t[r]);
      const w = Array.from({ length: N }, (_, i) => {
        let d2 = 0;
        for (let d = 0; d < D; d++) d2 += (x[r * D + d] - Math.sqrt(ab) * data[i * D + d]) ** 2;
        return Math.exp(-d2 / (2 * (1 - ab)));
      });
      const total = w.reduce((a, b) => a + b, 0);
      for (let d = 0; d < D; d++) {
        const x0 = w.reduce((s, wi, i) => s + wi * data[i * D + d], 0) / total;
        const eps = (x[r * D + d] - Math.sqrt(ab) * x0) / Math.sqrt(1 - ab);
        expect(out.values[r * D + d]).toBeCloseTo(eps, 4);
      }
    }
    m.dispose();
  });

  it('over a finite set snaps to the nearest point at t = 0 without underflow', () => {
    const data = Float32Array.from([-5, 0, 5]);
    const m = buildOracle({ source: 'training-set' }, ctxWith([1], { trainingSet: { data, count: 3 } }));
    const out = predictValues(m, [1], Float32Array.from([-40, -2.4, 2.6, 40]), new Float32Array(4));
    expect(Array.from(out.values)).toEqual([-5, 0, 5, 5]);
    m.dispose();
  });

  it('over many training points approaches the mixture closed form', () => {
    const rng = new Rng(4);
    const N = 20000;
    const data = new Float32Array(N);
    for (let i = 0; i < N; i++) data[i] = (i % 2 === 0 ? -2 : 2) + 0.5 * rng.normal();
    const ctx = ctxWith([1], { dataset: fakeDataset([1], seedMixture), trainingSet: { data, count: N } });
    const exact = buildOracle({ source: 'mixture' }, ctx);
    const empirical = buildOracle({ source: 'training-set' }, ctx);
    const xs = Float32Array.from([-2.5, -1, 0, 0.8, 2.2]);
    for (const t of [30, 60, 99]) {
      const ts = new Float32Array(xs.length).fill(t);
      const a = predictValues(exact, [1], xs, ts).values;
      const b = predictValues(empirical, [1], xs, ts).values;
      // Self-normalised average over ≥ hundreds of effective points: error ≈ 0.5/√N_eff ≪ 0.05.
      for (let i = 0; i < xs.length; i++) expect(Math.abs(a[i] - b[i]), `t=${t} x=${xs[i]}`).toBeLessThan(0.05);
    }
    exact.dispose();
    empirical.dispose();
  });

  it('stays finite as ᾱ → 0 (zero terminal SNR) and ᾱ → 1', () => {
    const zsnr = scheduleFromBetas('zsnr', [1e-9, 0.5, 1]);
    for (const type of ['sample', 'epsilon', 'v'] as const) {
      for (const source of ['mixture', 'training-set'] as const) {
        const m = buildOracle(
          { source },
          { ...denoiserContext([1], 1, type), schedule: zsnr, dataset: fakeDataset([1], skewMixture), trainingSet: { data: Float32Array.from([-1, 2]), count: 2 } },
        );
        const out = predictValues(m, [1], Float32Array.from([0.3, -0.2, 0.7]), Float32Array.from([0, 1.5, 2]));
        for (const v of out.values) expect(Number.isFinite(v)).toBe(true);
        // At ᾱ = 0, x̂₀ is the prior mean and ε̂ = xₜ.
        const terminal = out.values[2];
        const prior = source === 'mixture' ? 0.3 * -1.5 + 0.7 * 2 : 0.5;
        expect(terminal).toBeCloseTo(type === 'sample' ? prior : type === 'epsilon' ? 0.7 : -prior, 5);
        m.dispose();
      }
    }
  });

  it('keeps image shapes, has no variables, and does not leak', () => {
    const shape = [2, 2, 1];
    const rng = new Rng(5);
    const m = buildOracle({ source: 'auto' }, ctxWith(shape, { trainingSet: { data: rng.normalArray(40), count: 10 } }));
    expect(m.variables).toEqual([]);
    expect(m.parameterCount).toBe(0);
    const xt = tf.tensor(rng.normalArray(12), [3, ...shape]);
    const tt = tf.tensor1d([10, 10, 10]);
    const before = tf.memory().numTensors;
    const out = m.predict(xt, tt);
    expect(out.shape).toEqual([3, 2, 2, 1]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([out, xt, tt]);
    m.dispose();
  });

  it('saves a small model.json with its source and loads back to identical predictions', async () => {
    const ctx = ctxWith([1], { dataset: fakeDataset([1], seedMixture) }, 'epsilon');
    const m = buildOracle({ source: 'auto' }, ctx);
    const files = artifactsToFiles(await m.save());
    expect(files.weightsBin.byteLength).toBe(0);
    expect(JSON.parse(files.modelJson).userDefinedMetadata.diffusionlab).toEqual({
      denoiser: 'oracle',
      formatVersion: 1,
      options: { source: 'mixture' },
      dataShape: [1],
      numTrainTimesteps: 100,
    });
    const loaded = loadOracle(filesToArtifacts(files), ctx);
    const x = Float32Array.from([-1, 0.5, 2]);
    const t = Float32Array.from([1, 50, 98.5]);
    expect(predictValues(loaded, [1], x, t).values).toEqual(predictValues(m, [1], x, t).values);
  });

  it('explains what is missing when it cannot be built', async () => {
    expect(() => buildOracle({ source: 'auto' }, denoiserContext([1]))).toThrow(/needs the training set/);
    expect(() => buildOracle({ source: 'mixture' }, ctxWith([1], { dataset: fakeDataset([1]) }))).toThrow(PluginError);
    expect(() => buildOracle({ source: 'mixture' }, ctxWith([2], { dataset: fakeDataset([2], seedMixture) }))).toThrow(/2 means/);
    const d = await oracleDenoiser.create(oracleDenoiser.options.parse({}), { seed: 0, print: () => {}, interactive: false });
    expect(d.trainable).toBe(false);
    expect(oracleDenoiser.options.safeParse({ source: 'bogus' }).success).toBe(false);
  });
});

/** E[x₀|xₜ] on the flow path xₜ = (1 − t)·x₀ + t·ε by brute-force Simpson quadrature, as {@link quadraturePosteriorMean}. */
function quadratureFlowPosteriorMean(m: GaussianMixtureInfo, xt: number, t: number): number {
  const lo = -10;
  const hi = 10;
  const steps = 40000;
  const h = (hi - lo) / steps;
  let num = 0;
  let den = 0;
  for (let i = 0; i <= steps; i++) {
    const x0 = lo + i * h;
    let prior = 0;
    for (let k = 0; k < m.weights.length; k++) {
      const s = m.stds[k][0];
      const z = (x0 - m.means[k][0]) / s;
      prior += (m.weights[k] * Math.exp(-0.5 * z * z)) / (s * Math.sqrt(2 * Math.PI));
    }
    const r = xt - (1 - t) * x0;
    const lik = Math.exp((-0.5 * r * r) / (t * t));
    const wgt = i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2;
    num += wgt * x0 * prior * lik;
    den += wgt * prior * lik;
  }
  return num / den;
}

describe('oracle under training.objective flow', () => {
  const T = 100;
  const flowCtx = (shape: number[], extra: Partial<DenoiserBuildContext>) => ({ ...denoiserContext(shape, 1, 'epsilon', T), objective: 'flow' as const, ...extra });

  for (const [label, mixture] of [
    ['seed mixture', seedMixture],
    ['skewed mixture', skewMixture],
  ] as const) {
    it(`gives the exact velocity E[ε − x₀|xₜ] = (xₜ − (1 − t)·x̂₀)/t − x̂₀ (x̂₀ by quadrature) for the 1-D ${label}, reading its time input as t·T`, () => {
      const m = buildOracle({ source: 'mixture' }, flowCtx([1], { dataset: fakeDataset([1], mixture) }));
      expect(m.architecture).toMatch(/velocity/);
      const xs = [-3, -2.1, -0.7, 0, 0.4, 1.9, 3.2];
      for (const t of [0.05, 0.3, 0.62, 0.9, 1]) {
        const out = predictValues(m, [1], Float32Array.from(xs), new Float32Array(xs.length).fill(t * T));
        const tt = Math.fround(t * T) / T;
        for (let i = 0; i < xs.length; i++) {
          const x0 = quadratureFlowPosteriorMean(mixture, xs[i], tt);
          const ref = (xs[i] - (1 - tt) * x0) / tt - x0;
          expect(Math.abs(out.values[i] - ref), `t=${t} x=${xs[i]}`).toBeLessThan(2e-5 * Math.max(1, Math.abs(ref)));
        }
      }
      m.dispose();
    });
  }

  it('is finite at both ends: −xₜ at t = 0 (ε is independent of x₀ = xₜ) and xₜ − E[x₀] at t = 1', () => {
    const m = buildOracle({ source: 'mixture' }, flowCtx([1], { dataset: fakeDataset([1], skewMixture) }));
    const xs = Float32Array.from([-1.2, 0.3, 2.5]);
    expect(Array.from(predictValues(m, [1], xs, new Float32Array(3)).values).map((v) => Number(v.toFixed(5)))).toEqual([1.2, -0.3, -2.5]);
    const mean = 0.3 * -1.5 + 0.7 * 2;
    predictValues(m, [1], xs, new Float32Array(3).fill(T)).values.forEach((v, i) => expect(v).toBeCloseTo(xs[i] - mean, 5));
    m.dispose();
  });

  it('over a finite set equals the softmax-weighted x̂₀ on the flow path, as ε̂ − x̂₀', () => {
    const rng = new Rng(6);
    const N = 40;
    const D = 2;
    const data = rng.normalArray(N * D);
    const m = buildOracle({ source: 'training-set' }, flowCtx([D], { trainingSet: { data, count: N } }));
    const x = rng.normalArray(3 * D);
    const ts = [0.2, 0.5, 0.95];
    const out = predictValues(
      m,
      [D],
      x,
      Float32Array.from(ts, (t) => t * T),
    );
    ts.forEach((t0, r) => {
      const t = Math.fround(t0 * T) / T;
      const w = Array.from({ length: N }, (_, i) => {
        let d2 = 0;
        for (let d = 0; d < D; d++) d2 += (x[r * D + d] - (1 - t) * data[i * D + d]) ** 2;
        return Math.exp(-d2 / (2 * t * t));
      });
      const total = w.reduce((a, b) => a + b, 0);
      for (let d = 0; d < D; d++) {
        const x0 = w.reduce((s, wi, i) => s + wi * data[i * D + d], 0) / total;
        expect(out.values[r * D + d]).toBeCloseTo((x[r * D + d] - (1 - t) * x0) / t - x0, 4);
      }
    });
    m.dispose();
  });
});
