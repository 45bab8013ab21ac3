import { type DenoiserBuildContext, type DenoiserModel, definePlugin, type ModelArtifacts, registerTfjsGradients, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackendBeforeAll } from './backend.js';
import {
  checkDenoiserDeterminism,
  checkDenoiserGradients,
  checkDenoiserPredict,
  checkPredictNoLeak,
  checkSaveLoadIdentical,
  denoiserConformance,
  denoiserContext,
} from './denoiser-conformance.js';

/** Faults to inject, so each check is shown to fail on the fault it is for. */
interface Faults {
  leak?: boolean;
  mathRandom?: boolean;
  wrongShape?: boolean;
  lossySave?: boolean;
  deadBias?: boolean;
}

/** `base` when no live variable has that name yet, else `base_k`: plain names, as the built-in models pick them. */
function freePrefix(base: string): string {
  const taken = tf.engine().registeredVariables;
  if (!(`${base}/w` in taken)) return base;
  let k = 1;
  while (`${base}_${k}/w` in taken) k++;
  return `${base}_${k}`;
}

/** A per-coordinate affine denoiser out = w ⊙ xₜ + b·t/T, weights from ctx.rng (uniform ±1). */
function affine(ctx: DenoiserBuildContext, f: Faults, init?: { w: Float32Array; b: Float32Array }): DenoiserModel {
  const D = ctx.dataShape.reduce((a, c) => a * c, 1);
  const draw = (k: number) => Float32Array.from({ length: k }, () => (f.mathRandom ? Math.random() : ctx.rng.uniform()) * 2 - 1);
  const prefix = freePrefix('affine');
  const [w, b] = tf.tidy(() => [tf.variable(tf.tensor(init?.w ?? draw(D), [D]), true, `${prefix}/w`), tf.variable(tf.tensor(init?.b ?? draw(D), [D]), true, `${prefix}/b`)]);
  const T = ctx.schedule.numTrainTimesteps;
  return {
    architecture: 'affine',
    variables: [w, b],
    get parameterCount() {
      return w.size + b.size;
    },
    predict(xt, t) {
      if (f.leak) tf.ones([1]);
      return tf.tidy(() => {
        const n = xt.shape[0];
        const flat = tf.reshape(xt, [n, D]);
        const bt = f.deadBias ? tf.mul(b, 0) : b;
        const y = tf.add(tf.mul(flat, w), tf.mul(tf.reshape(tf.div(t, T), [n, 1]), bt));
        return f.wrongShape ? y : tf.reshape(y, xt.shape);
      });
    },
    async save(): Promise<ModelArtifacts> {
      const wv = w.dataSync().slice() as Float32Array;
      if (f.lossySave) for (let i = 0; i < wv.length; i++) wv[i] = Math.fround(wv[i] + 1e-3);
      const data = new Float32Array([...wv, ...b.dataSync()]);
      return {
        modelTopology: { class_name: 'Affine' },
        weightSpecs: [
          { name: 'w', shape: [D], dtype: 'float32' },
          { name: 'b', shape: [D], dtype: 'float32' },
        ],
        weightData: data.buffer,
      };
    },
    dispose() {
      w.dispose();
      b.dispose();
    },
  };
}

function plugin(f: Faults = {}) {
  return definePlugin({
    kind: 'denoiser',
    name: 'affine',
    description: 'A per-coordinate affine test denoiser',
    options: z.object({ scale: z.number().positive().default(1).describe('unused') }).strict(),
    create: () => ({
      name: 'affine',
      trainable: true,
      build: (ctx: DenoiserBuildContext) => affine(ctx, f),
      load: (a: ModelArtifacts, ctx: DenoiserBuildContext) => {
        const all = new Float32Array(a.weightData as ArrayBuffer);
        const D = all.length / 2;
        return affine(ctx, f, { w: all.slice(0, D), b: all.slice(D) });
      },
    }),
  });
}

activateBackendBeforeAll('cpu');
beforeAll(() => registerTfjsGradients());

denoiserConformance(plugin(), { shapes: [[2], [2, 2, 1]], invalid: [{ options: { scale: -1 }, path: 'denoiser.scale' }], useCpuBackend: false });

describe('denoiser checks fail on the fault they are for', () => {
  const T = 100;
  const build = (f: Faults, seed = 1) => affine(denoiserContext([3], seed, 'epsilon', T), f);
  it('wrong output shape', () => {
    const m = build({ wrongShape: true });
    expect(() => checkDenoiserPredict(m, [3, 1], 4, T)).toThrow(/shape \[4,3\], expected \[4,3,1\]/);
    m.dispose();
  });
  it('a leaking predict', () => {
    const before = tf.memory().numTensors;
    const m = build({ leak: true });
    expect(() => checkPredictNoLeak(m, [3], 4, T)).toThrow(/left 2 tensors alive/);
    m.dispose();
    tf.disposeVariables();
    expect(tf.memory().numTensors).toBeGreaterThan(before); // the leaked tensors really exist
  });
  it('Math.random initialisation', async () => {
    await expect(checkDenoiserDeterminism((seed) => build({ mathRandom: true }, seed), [3], 4, T, 'affine')).rejects.toThrow(/two builds with seed 42 differ/);
  });
  it('ignoring ctx.rng differs by nothing across seeds', async () => {
    const fixed = (): DenoiserModel => affine(denoiserContext([3], 5, 'epsilon', T), {});
    await expect(checkDenoiserDeterminism(() => fixed(), [3], 4, T, 'affine')).rejects.toThrow(/seeds 42 and 43 give identical weights/);
  });
  it('a save that loses precision', async () => {
    const p = plugin({ lossySave: true });
    const d = await p.create({ scale: 1 }, { seed: 0, print: () => {}, interactive: false });
    const m = await d.build(denoiserContext([3], 1, 'epsilon', T));
    await expect(checkSaveLoadIdentical(m, (a) => d.load(a, denoiserContext([3], 2, 'epsilon', T)), [3], 4, T)).rejects.toThrow(/save → load changed predict/);
  });
  it('a variable that gets no gradient', () => {
    const m = build({ deadBias: true });
    expect(() => checkDenoiserGradients(m, [3], 4, T)).toThrow(/gradient of affine(_\d+)?\/b has norm 0/);
    m.dispose();
  });
});
