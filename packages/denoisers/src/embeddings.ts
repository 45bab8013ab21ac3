/**
 * Sinusoidal embeddings of the timestep and of the input, as plain functions (used by the raw-op
 * forward passes) and as two tiny tfjs-layers layers with the same `call`, so a saved checkpoint's
 * topology computes exactly what training computed. The layers have no weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PixelAttentionLayer } from './attention.js';
import { GroupNormLayer } from './group-norm.js';

/**
 * Transformer sinusoidal embedding (Vaswani et al. 2017, §3.5) of 1000·t/T, as DDPM embeds its
 * timestep (Ho et al. 2020, App. B): [sin(s·ωᵢ), cos(s·ωᵢ)], ωᵢ = 10000^(−i/half), s = 1000·t/T.
 * Normalising by T inside the model keeps one embedding meaningful for any number of timesteps.
 * `t` is [n] or [n, 1]; the result is [n, dim].
 */
export function timeEmbedding(t: tf.Tensor, dim: number, numTrainTimesteps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const half = dim / 2;
    const freqs = new Float32Array(half);
    for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(10000) * i) / half);
    const n = t.shape[0];
    const s = tf.mul(tf.reshape(tf.cast(t, 'float32'), [n, 1]), 1000 / numTrainTimesteps);
    const args = tf.mul(s, tf.tensor2d(freqs, [1, half]));
    return tf.concat([tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D;
  });
}

/**
 * Fourier features of the input (Tancik et al. 2020): [x, sin(2ᵏx), cos(2ᵏx)] for k = 0…F−1, per
 * dimension, which lets a small MLP fit sharp structure in low-dimensional data. [n, D] → [n, D(1+2F)].
 */
export function fourierFeatures(x: tf.Tensor, frequencies: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, D] = x.shape;
    const freqs = new Float32Array(frequencies);
    for (let k = 0; k < frequencies; k++) freqs[k] = 2 ** k;
    const args = tf.reshape(tf.mul(tf.reshape(x, [n, D, 1]), tf.tensor3d(freqs, [1, 1, frequencies])), [n, D * frequencies]);
    return tf.concat([x, tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D;
  });
}

type LayerArgs = ConstructorParameters<typeof tfl.layers.Layer>[0];

/** Layer form of {@link timeEmbedding}: input t [n, 1], output [n, dim]. */
export class TimeEmbeddingLayer extends tfl.layers.Layer {
  static readonly className = 'DiffusionLabTimeEmbedding';
  readonly dim: number;
  readonly numTrainTimesteps: number;

  constructor(args: LayerArgs & { dim: number; numTrainTimesteps: number }) {
    super(args);
    this.dim = args.dim;
    this.numTrainTimesteps = args.numTrainTimesteps;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [s[0], this.dim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const t = Array.isArray(inputs) ? inputs[0] : inputs;
    return timeEmbedding(t, this.dim, this.numTrainTimesteps);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dim: this.dim, numTrainTimesteps: this.numTrainTimesteps };
  }
}

/** Layer form of {@link fourierFeatures}: input [n, D], output [n, D(1+2F)]. */
export class FourierFeaturesLayer extends tfl.layers.Layer {
  static readonly className = 'DiffusionLabFourierFeatures';
  readonly frequencies: number;

  constructor(args: LayerArgs & { frequencies: number }) {
    super(args);
    this.frequencies = args.frequencies;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [s[0], (s[1] as number) * (1 + 2 * this.frequencies)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return fourierFeatures(Array.isArray(inputs) ? inputs[0] : inputs, this.frequencies);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), frequencies: this.frequencies };
  }
}

let registered = false;

/**
 * Registers this package's custom layers with tfjs's serialisation map. Call it once before
 * `tf.loadLayersModel` on an `mlp` or `unet` checkpoint (e.g. in a browser): time embedding,
 * Fourier features, and the unet's optional GroupNorm and attention layers; `seed-mlp`
 * checkpoints use only built-in layers and need nothing. Idempotent; explicit rather than an
 * import side effect, so tree-shaking stays safe.
 */
export function registerDenoiserLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(TimeEmbeddingLayer);
  tf.serialization.registerClass(FourierFeaturesLayer);
  tf.serialization.registerClass(GroupNormLayer);
  tf.serialization.registerClass(PixelAttentionLayer);
  registered = true;
}
