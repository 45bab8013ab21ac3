// Test fixtures: a plain MLP built from tf.variables (as the denoisers describe themselves) and
// its tfjs reference forward pass, the independent implementation the kernels are checked against.
import * as tf from '@tensorflow/tfjs-core';
import { Rng, type DenoiserModel, type PlainMlpDescription } from '@diffusionlab/core';

export type Act = PlainMlpDescription['activation'];

let counter = 0;

/** Glorot-uniform kernels and small random biases (non-zero so bias paths are exercised). */
export function makeMlp(widths: number[], activation: Act, seed: number): PlainMlpDescription {
  const rng = new Rng(seed);
  const layers = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    const [a, b] = [widths[l], widths[l + 1]];
    const lim = Math.sqrt(6 / (a + b));
    const w = Float32Array.from({ length: a * b }, () => (2 * rng.uniform() - 1) * lim);
    const bias = Float32Array.from({ length: b }, () => 0.1 * (2 * rng.uniform() - 1));
    const id = `kfix${counter++}`;
    layers.push({
      kernel: tf.variable(tf.tensor2d(w, [a, b]), true, `${id}_k`),
      bias: tf.variable(tf.tensor1d(bias), true, `${id}_b`),
    });
  }
  return { kind: 'plain-mlp', input: 'concat-raw-t', activation, layers };
}

export function disposeMlp(d: PlainMlpDescription): void {
  for (const { kernel, bias } of d.layers) {
    kernel.dispose();
    bias.dispose();
  }
}

/** tfjs-layers' op sequences for each activation. */
export function activate(x: tf.Tensor, a: Act): tf.Tensor {
  switch (a) {
    case 'silu':
      return tf.mul(tf.sigmoid(x), x);
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
  }
}

/** The reference forward: out = L_k(act(… act(L_1(concat(x, t))) …)) with tfjs ops. */
export function referenceForward(d: PlainMlpDescription, xt: tf.Tensor, t: tf.Tensor): tf.Tensor {
  let h = tf.concat([tf.reshape(xt, [xt.shape[0], -1]), tf.reshape(t, [-1, 1])], 1);
  d.layers.forEach(({ kernel, bias }, l) => {
    h = tf.add(tf.matMul(h, kernel), bias);
    if (l + 1 < d.layers.length) h = activate(h, d.activation);
  });
  return h;
}

/** A DenoiserModel around a description (what the seed-mlp denoiser offers core's train()). */
export function asModel(d: PlainMlpDescription, describe = true): DenoiserModel {
  const variables = d.layers.flatMap((l) => [l.kernel, l.bias]);
  return {
    architecture: 'test mlp',
    predict: (xt, t) => referenceForward(d, xt, t),
    variables,
    parameterCount: variables.reduce((s, v) => s + v.size, 0),
    save: () => Promise.reject(new Error('not needed')),
    dispose: () => disposeMlp(d),
    ...(describe ? { describe: () => d } : {}),
  };
}

/** A batch like core's makeTrainingBatch gives: xₜ ~ N(0, 1.5²), integer t in [0, T), ε targets. */
export function randomBatch(n: number, D: number, rng: Rng, T = 100) {
  const xt = Float32Array.from({ length: n * D }, () => 1.5 * rng.normal());
  const t = Float32Array.from({ length: n }, () => rng.int(T));
  const target = Float32Array.from({ length: n * D }, () => rng.normal());
  return { xt, t, target, size: n };
}
