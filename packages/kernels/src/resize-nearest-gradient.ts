/**
 * A correct gradient for tfjs's nearest-neighbour 2× upsampling (the U-Net's `up`) on every
 * backend. tfjs-backend-cpu 4.22's ResizeNearestNeighborGrad offsets ∂L/∂y by the *input's* batch
 * stride (`batchOffset + dyR·dyStrides[1]`, with batchOffset = b·imagesStrides[0]), so for every
 * image after the first it sums the wrong rows of ∂L/∂y: a U-Net trained on tfjs with the cpu
 * backend and batch > 1 gets wrong gradients in its decoder. For an integer factor with
 * alignCorners and halfPixelCenters off (what the U-Net uses), each input pixel's gradient is the
 * sum of its f×f output block, computed here as reshape + sum; other cases keep tfjs's gradient.
 */
import * as tf from '@tensorflow/tfjs-core';

type GradConfig = NonNullable<ReturnType<typeof tf.getGradient>>;

let previous: GradConfig | undefined;
let installed = false;

/** The ResizeNearestNeighbor gradient as block sums (integer factors), else the one it replaced. */
export const resizeNearestGradConfig: GradConfig = {
  kernelName: 'ResizeNearestNeighbor',
  inputsToSave: ['images'],
  gradFunc: (dy, saved, attrs) => {
    const [images] = saved;
    const g = dy as tf.Tensor4D;
    const { alignCorners, halfPixelCenters } = attrs as unknown as { alignCorners: boolean; halfPixelCenters: boolean };
    const [n, h, w, c] = images.shape as [number, number, number, number];
    const fh = g.shape[1] / h;
    const fw = g.shape[2] / w;
    if (!alignCorners && !halfPixelCenters && Number.isInteger(fh) && Number.isInteger(fw)) {
      return { images: () => tf.sum(tf.reshape(g, [n, h, fh, w, fw, c]), [2, 4]) };
    }
    if (!previous) throw new Error('resizeNearestNeighbor gradient: no tfjs gradient registered for this case');
    return previous.gradFunc(dy, saved, attrs);
  },
};

/**
 * Registers {@link resizeNearestGradConfig} (idempotent, process-wide). Install it after tfjs's own
 * gradients are registered, or they overwrite it. Returns a function that restores the previous one.
 */
export function installResizeNearestGradientFix(): () => void {
  if (!installed) {
    previous = tf.getGradient('ResizeNearestNeighbor');
    tf.registerGradient(resizeNearestGradConfig);
    installed = true;
  }
  return () => {
    if (installed && previous) tf.registerGradient(previous);
    installed = false;
  };
}
