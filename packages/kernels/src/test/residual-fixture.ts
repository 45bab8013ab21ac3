// Test fixtures: a residual MLP built from tf.variables (as the `mlp` denoiser describes itself)
// and its tfjs reference forward pass, written op for op like packages/denoisers/src/mlp.ts and
// embeddings.ts — the independent implementation the fused residual kernels are checked against.
import * as tf from '@tensorflow/tfjs-core';
import { type DenoiserModel, type DenseVariables, type ResidualMlpDescription, Rng } from '@diffusionlab/core';
import { activate } from './mlp-fixture.js';

export type ResidualOptions = Pick<ResidualMlpDescription, 'activation' | 'dataDim' | 'width' | 'depth' | 'timeEmbedding' | 'numTrainTimesteps' | 'inputEmbedding'>;

let counter = 0;

/** PyTorch nn.Linear-style uniform(±1/√fanIn) kernels and biases, from a fixed seed. */
function denseVars(rng: Rng, nin: number, nout: number): DenseVariables {
  const lim = 1 / Math.sqrt(nin);
  const id = `rfix${counter++}`;
  return {
    kernel: tf.variable(
      tf.tensor2d(
        Float32Array.from({ length: nin * nout }, () => (2 * rng.uniform() - 1) * lim),
        [nin, nout],
      ),
      true,
      `${id}_k`,
    ),
    bias: tf.variable(tf.tensor1d(Float32Array.from({ length: nout }, () => (2 * rng.uniform() - 1) * lim)), true, `${id}_b`),
  };
}

/**
 * A residual MLP description with freshly initialised variables; with `classes` K > 0, a class
 * embedding [K + 1, W] drawn N(0, 1) after the other weights, as common.ts addClassEmbedding does.
 */
export function makeResidual(o: ResidualOptions, seed: number, classes = 0): ResidualMlpDescription {
  const rng = new Rng(seed);
  const W = o.width;
  const d: ResidualMlpDescription = {
    kind: 'residual-mlp',
    ...o,
    time: denseVars(rng, o.timeEmbedding, W),
    input: denseVars(rng, o.dataDim * (1 + 2 * o.inputEmbedding), W),
    blocks: Array.from({ length: o.depth }, () => ({ dense0: denseVars(rng, W, W), time: denseVars(rng, W, W), dense1: denseVars(rng, W, W) })),
    out: denseVars(rng, W, o.dataDim),
  };
  if (classes > 0) {
    const values = Float32Array.from({ length: (classes + 1) * W }, () => rng.normal());
    d.classEmbedding = tf.variable(tf.tensor2d(values, [classes + 1, W]), true, `rfix${counter++}_class`);
  }
  return d;
}

/** Every variable of a description, in parameter order. */
export function residualVariables(d: ResidualMlpDescription): tf.Variable[] {
  const dense = [d.time, d.input, ...d.blocks.flatMap((b) => [b.dense0, b.time, b.dense1]), d.out].flatMap((l) => [l.kernel, l.bias]);
  return d.classEmbedding ? [...dense, d.classEmbedding] : dense;
}

export function disposeResidual(d: ResidualMlpDescription): void {
  for (const v of residualVariables(d)) v.dispose();
}

const dense = (x: tf.Tensor, l: DenseVariables) => tf.add(tf.matMul(x as tf.Tensor2D, l.kernel as tf.Tensor2D), l.bias);

/** embeddings.ts timeEmbedding: [sin(s·ωᵢ), cos(s·ωᵢ)], s = t·1000/T. */
function timeEmbedding(t: tf.Tensor, dim: number, T: number): tf.Tensor {
  const half = dim / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(10000) * i) / half);
  const n = t.shape[0];
  const s = tf.mul(tf.reshape(tf.cast(t, 'float32'), [n, 1]), 1000 / T);
  const args = tf.mul(s, tf.tensor2d(freqs, [1, half]));
  return tf.concat([tf.sin(args), tf.cos(args)], 1);
}

/** embeddings.ts fourierFeatures: [x, sin(2ᵏx), cos(2ᵏx)]. */
function fourierFeatures(x: tf.Tensor, F: number): tf.Tensor {
  const [n, D] = x.shape;
  const freqs = new Float32Array(F);
  for (let k = 0; k < F; k++) freqs[k] = 2 ** k;
  const args = tf.reshape(tf.mul(tf.reshape(x, [n, D, 1]), tf.tensor3d(freqs, [1, 1, F])), [n, D * F]);
  return tf.concat([x, tf.sin(args), tf.cos(args)], 1);
}

/** mlp.ts predict, op for op; a conditional description adds one-hot(labels)·C (the null class K without labels), as common.ts classEmbedding does. */
export function referenceResidualForward(d: ResidualMlpDescription, xt: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor): tf.Tensor {
  const n = xt.shape[0];
  const act = (x: tf.Tensor) => activate(x, d.activation);
  let feat: tf.Tensor = tf.reshape(xt, [n, d.dataDim]);
  if (d.inputEmbedding > 0) feat = fourierFeatures(feat, d.inputEmbedding);
  let pre = dense(timeEmbedding(t, d.timeEmbedding, d.numTrainTimesteps), d.time);
  if (d.classEmbedding) {
    const K = d.classEmbedding.shape[0] - 1;
    const idx = labels ? tf.cast(tf.reshape(labels, [n]), 'int32') : tf.fill([n], K, 'int32');
    const oneHot = tf.cast(tf.oneHot(idx as tf.Tensor1D, K + 1), 'float32');
    pre = tf.add(pre, tf.matMul(oneHot as tf.Tensor2D, d.classEmbedding as tf.Tensor2D));
  }
  const e = act(pre);
  let h = dense(feat, d.input);
  for (const b of d.blocks) {
    let a = dense(act(h), b.dense0);
    a = tf.add(a, dense(e, b.time));
    a = dense(act(a), b.dense1);
    h = tf.add(h, a);
  }
  return tf.reshape(dense(act(h), d.out), xt.shape);
}

/** A DenoiserModel around a description (what the `mlp` denoiser offers core's train()). */
export function asResidualModel(d: ResidualMlpDescription, describe = true): DenoiserModel {
  const variables = residualVariables(d);
  const K = d.classEmbedding ? d.classEmbedding.shape[0] - 1 : 0;
  return {
    architecture: 'test residual mlp',
    ...(K > 0 ? { labelNames: Array.from({ length: K }, (_, k) => `class ${k}`) } : {}),
    predict: (xt, t, labels) => tf.tidy(() => referenceResidualForward(d, xt, t, labels)),
    variables,
    parameterCount: variables.reduce((s, v) => s + v.size, 0),
    save: () => Promise.reject(new Error('not needed')),
    dispose: () => disposeResidual(d),
    ...(describe ? { describe: () => d } : {}),
  };
}
