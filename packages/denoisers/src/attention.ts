/**
 * Multi-head scaled dot-product self-attention over the pixels of a feature map (Vaswani et al.
 * 2017, eq. 1 and §3.2.2), as DDPM's U-Net uses it at its low resolutions (Ho et al. 2020, App. B):
 * every pixel attends to every pixel, so the network can relate distant strokes that its 3×3
 * convolutions only reach after many layers.
 *
 * This file holds the weightless core, softmax(Q·Kᵀ/√d)·V per head, on Q, K and V feature maps; the
 * projections around it are ordinary 1×1 convolutions (the U-Net adds them), so the only custom
 * layer in a saved checkpoint is this core. Q, K and V come from three convolutions rather than one
 * 3C-wide one that is split: on wasm the split and its gradient cost a third of the core's time.
 * As a plain function (raw-op forward pass) and as a tfjs-layers layer with the same `call`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Swaps the last two axes of a rank-3 tensor; an explicit transpose, as wasm's transposed matMul is slow. */
const swapLast = (x: tf.Tensor): tf.Tensor => tf.transpose(x, [0, 2, 1]);

/**
 * q, k, v [n, H, W, C] → [n, H, W, C]. Head h owns channels h·d … (h+1)·d − 1 of each, with
 * d = C/heads; the output puts head h at the same channels. For each example and head, with the
 * H·W pixels as tokens:
 *   out = softmax(Q·Kᵀ / √d)·V   (softmax over the attended-to pixel).
 */
export function pixelAttention(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, heads: number): tf.Tensor {
  return tf.tidy(() => {
    const [n, H, W, C] = query.shape as [number, number, number, number];
    if (C % heads !== 0) throw new Error(`internal: pixelAttention over ${C} channels with ${heads} heads`);
    const d = C / heads;
    const L = H * W;
    const [q, k, v] = [query, key, value].map((a) => tf.reshape(a, [n, L, C]));
    // [n, L, C] → [n·heads, L, d] (head-major), and back.
    const toHeads = (a: tf.Tensor) => (heads === 1 ? a : tf.reshape(tf.transpose(tf.reshape(a, [n, L, heads, d]), [0, 2, 1, 3]), [n * heads, L, d]));
    const fromHeads = (a: tf.Tensor) => (heads === 1 ? a : tf.reshape(tf.transpose(tf.reshape(a, [n, heads, L, d]), [0, 2, 1, 3]), [n, L, C]));
    const logits = tf.mul(tf.matMul(toHeads(q) as tf.Tensor3D, swapLast(toHeads(k)) as tf.Tensor3D), 1 / Math.sqrt(d));
    const out = tf.matMul(tf.softmax(logits) as tf.Tensor3D, toHeads(v) as tf.Tensor3D);
    return tf.reshape(fromHeads(out), [n, H, W, C]);
  });
}

type LayerArgs = ConstructorParameters<typeof tfl.layers.Layer>[0];

/** Layer form of {@link pixelAttention} (no weights): inputs [q, k, v], each [n, H, W, C]; output [n, H, W, C]. */
export class PixelAttentionLayer extends tfl.layers.Layer {
  static readonly className = 'DiffusionLabPixelAttention';
  readonly heads: number;

  constructor(args: LayerArgs & { heads: number }) {
    super(args);
    this.heads = args.heads;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    if (!Array.isArray(inputs) || inputs.length !== 3) throw new Error('internal: PixelAttentionLayer takes [q, k, v]');
    return pixelAttention(inputs[0], inputs[1], inputs[2], this.heads);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heads: this.heads };
  }
}
