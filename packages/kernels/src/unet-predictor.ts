/**
 * The fused forward pass for sampling with the U-Net (`unet` denoiser): the network evaluated in
 * WebAssembly SIMD on typed arrays ({@link UnetNetwork} without gradient buffers), behind the same
 * {@link FusedMlpPredictor} interface as the MLPs', tile by tile over the batch (with each row's
 * class for a class-conditional U-Net).
 */
import type { UnetDescription } from '@diffusionlab/core';
import { type FusedMlpPredictor, tiledPredictor } from './predictor.js';
import { UnetNetwork, unetShape } from './unet-network.js';
import { simdSupported } from './wasm.js';

/**
 * Builds a predictor from a model's {@link UnetDescription}, or returns the reason it cannot, so
 * callers fall back to `model.predict`. The weights are read once, here (and on refresh()).
 */
export function createFusedUnetPredictor(desc: UnetDescription | null | undefined): FusedMlpPredictor | string {
  const shape = unetShape(desc);
  if (typeof shape === 'string') return shape;
  if (!simdSupported()) return 'this runtime does not support WebAssembly SIMD';
  const d = desc as UnetDescription;
  const net = new UnetNetwork(shape, d, false);
  return tiledPredictor(
    net,
    net.dataDim,
    (m) => m.readFrom(d),
    (m, xt, t, rows, r, labels) => {
      m.setInput(xt, t, rows, r);
      m.setLabels(labels, rows, r);
      return m.forward(rows);
    },
  );
}
