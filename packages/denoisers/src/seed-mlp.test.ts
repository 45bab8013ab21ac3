import '@tensorflow/tfjs-backend-cpu';
import { type DenoiserModel, PluginError } from '@diffusionlab/core';
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
import { buildSeedMlp, loadSeedMlp, seedMlpOptions, seedMlpParameterCount, seedMlpDenoiser } from './seed-mlp.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const T = 100;

describe('seed-mlp', () => {
  it('has the reference 17,025 parameters for D = 1, hidden = 128', () => {
    const m = buildSeedMlp(seedMlpOptions.parse({}), denoiserContext([1]));
    expect(m.parameterCount).toBe(17025);
    expect(seedMlpParameterCount(1, 128)).toBe(17025);
    expect(m.variables.map((v) => v.shape)).toEqual([[2, 128], [128], [128, 128], [128], [128, 1], [1]]);
    m.dispose();
  });

  it('counts parameters for image-shaped data by the hand formula', () => {
    // D = 2·3·1 = 6, h = 5: 7·5 + 5 + 5·5 + 5 + 5·6 + 6 = 106.
    const m = buildSeedMlp({ hidden: 5 }, denoiserContext([2, 3, 1]));
    expect(m.parameterCount).toBe(106);
    expect(seedMlpParameterCount(6, 5)).toBe(106);
    m.dispose();
  });

  it('initialises like torch nn.Linear: U(−1/√fan_in, 1/√fan_in) with the uniform variance', () => {
    const m = buildSeedMlp({ hidden: 128 }, denoiserContext([1], 3));
    const fanIns = [2, 2, 128, 128, 128, 128];
    m.variables.forEach((v, i) => {
      const b = 1 / Math.sqrt(fanIns[i]);
      const vals = v.dataSync();
      let maxAbs = 0;
      let sumSq = 0;
      for (const x of vals) {
        maxAbs = Math.max(maxAbs, Math.abs(x));
        sumSq += x * x;
      }
      expect(maxAbs).toBeLessThanOrEqual(b);
      if (vals.length >= 1000) {
        // E[w²] = b²/3; its sample mean has SE √(4/45)·b²/√N.
        const se = (Math.sqrt(4 / 45) * b * b) / Math.sqrt(vals.length);
        expect(Math.abs(sumSq / vals.length - (b * b) / 3)).toBeLessThan(5 * se);
        expect(maxAbs).toBeGreaterThan(0.99 * b);
      }
    });
    m.dispose();
  });

  it('computes the reference forward pass (checked by hand in float64)', () => {
    const h = 3;
    const m = buildSeedMlp({ hidden: h }, denoiserContext([1], 4));
    const [W0, b0, W1, b1, W2, b2] = m.variables.map((v) => Array.from(v.dataSync()));
    const silu = (z: number) => z / (1 + Math.exp(-z));
    const ref = (x: number, t: number) => {
      const a = Array.from({ length: h }, (_, j) => silu(x * W0[j] + t * W0[h + j] + b0[j]));
      const c = Array.from({ length: h }, (_, j) => silu(a.reduce((s, ai, i) => s + ai * W1[i * h + j], b1[j])));
      return c.reduce((s, ci, i) => s + ci * W2[i], b2[0]);
    };
    const x = new Float32Array([-2, 0.5, 1.25, 3]);
    const t = new Float32Array([0, 17, 42.5, 99]);
    const out = predictValues(m, [1], x, t);
    expect(out.shape).toEqual([4, 1]);
    for (let i = 0; i < 4; i++) expect(out.values[i]).toBeCloseTo(ref(x[i], t[i]), 5);
    m.dispose();
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = buildSeedMlp({ hidden: 8 }, denoiserContext([2], 42));
    const b = buildSeedMlp({ hidden: 8 }, denoiserContext([2], 42));
    const c = buildSeedMlp({ hidden: 8 }, denoiserContext([2], 43));
    expect(weightValues(a)).toEqual(weightValues(b));
    expect(weightValues(a)).not.toEqual(weightValues(c));
    // Two live models coexist with distinct variable names that share the stable Keras suffix.
    expect(a.variables[0].name).toBe('seed-mlp/dense_0/kernel');
    expect(b.variables[0].name).toBe('seed-mlp_2/dense_0/kernel');
    for (const m of [a, b, c]) m.dispose();
  });

  it('flattens image-shaped input and reshapes the output', () => {
    const m = buildSeedMlp({ hidden: 6 }, denoiserContext([2, 3, 1]));
    const { x, t } = denoiserInputs([2, 3, 1], 4, T);
    expect(predictValues(m, [2, 3, 1], x, t).shape).toEqual([4, 2, 3, 1]);
    m.dispose();
  });

  it('gives a gradient to every variable', () => {
    const m = buildSeedMlp({ hidden: 16 }, denoiserContext([2]));
    checkDenoiserGradients(m, [2], 8, T);
    m.dispose();
  });

  it('does not leak tensors in predict, build or dispose', () => {
    const before = tf.memory().numTensors;
    const m = buildSeedMlp({ hidden: 16 }, denoiserContext([1]));
    checkPredictNoLeak(m, [1], 8, T);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('offers its layers to fused kernels as its own variables', () => {
    const m = buildSeedMlp({ hidden: 4 }, denoiserContext([1]));
    const d = m.describe?.();
    if (d?.kind !== 'plain-mlp') throw new Error(`seed-mlp describes itself as ${d?.kind}, not plain-mlp`);
    expect(d.input).toBe('concat-raw-t');
    expect(d?.activation).toBe('silu');
    expect(d?.layers.flatMap((l) => [l.kernel, l.bias])).toEqual(m.variables);
    m.dispose();
  });

  for (const shape of [[1], [2, 3, 1]]) {
    it(`save → load predicts bitwise identically (shape [${shape}])`, async () => {
      const before = tf.memory().numTensors;
      const ctx = denoiserContext(shape, 5);
      const m = buildSeedMlp({ hidden: 12 }, ctx);
      await checkSaveLoadIdentical(m, (a) => loadSeedMlp(a, ctx), shape, 6, T);
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`saves a real LayersModel that tf.loadLayersModel runs to the same output (shape [${shape}])`, async () => {
      const before = tf.memory().numTensors;
      const m = buildSeedMlp({ hidden: 12 }, denoiserContext(shape, 6));
      await checkLayersModelMatches(m, shape, 6, T);
      m.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('refuses a checkpoint of another denoiser or another data shape', async () => {
    const m: DenoiserModel = buildSeedMlp({ hidden: 4 }, denoiserContext([1]));
    const a = await m.save();
    m.dispose();
    const other = { ...a, userDefinedMetadata: { diffusionlab: { ...(a.userDefinedMetadata as any).diffusionlab, denoiser: 'mlp' } } };
    expect(() => loadSeedMlp(other, denoiserContext([1]))).toThrow(PluginError);
    expect(() => loadSeedMlp(a, denoiserContext([2]))).toThrow(/shape \[1\]/);
  });

  it('plugin: defaults, strict options, recipe', async () => {
    expect(seedMlpDenoiser.options.parse({})).toEqual({ hidden: 128 });
    expect(seedMlpDenoiser.options.safeParse({ hiden: 3 }).success).toBe(false);
    expect(seedMlpDenoiser.options.safeParse({ hidden: 0 }).success).toBe(false);
    const d = await seedMlpDenoiser.create({ hidden: 4 }, { seed: 0, print: () => {}, interactive: false });
    expect(d.name).toBe('seed-mlp');
    expect(d.trainable).toBe(true);
    const m = await d.build(denoiserContext([1]));
    expect(m.parameterCount).toBe(seedMlpParameterCount(1, 4));
    m.dispose();
  });
});
