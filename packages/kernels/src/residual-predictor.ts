/**
 * The fused forward pass for sampling with the residual MLP (`mlp` denoiser): the network evaluated
 * in WebAssembly SIMD on typed arrays, behind the same {@link FusedMlpPredictor} interface as the
 * plain MLP's. With one t for the whole batch (every sampler step) the time embedding and each
 * block's time projection are computed once and folded into a bias (one per class, picked per row,
 * for a class-conditional model, so guidance's batched [conditional; unconditional] call folds too).
 */
import type { ResidualMlpDescription } from '@diffusionlab/core';
import { type FusedMlpPredictor, tiledPredictor } from './predictor.js';
import { ResidualMlpNetwork, residualMlpShape } from './residual-mlp-network.js';
import { simdSupported } from './wasm.js';

/**
 * Builds a predictor from a model's {@link ResidualMlpDescription}, or returns the reason it cannot,
 * so callers fall back to `model.predict`. The weights are read once, here (and on refresh()).
 */
export function createFusedResidualMlpPredictor(desc: ResidualMlpDescription | null | undefined): FusedMlpPredictor | string {
  const shape = residualMlpShape(desc);
  if (typeof shape === 'string') return shape;
  if (!simdSupported()) return 'this runtime does not support WebAssembly SIMD';
  const d = desc as ResidualMlpDescription;
  return tiledPredictor(
    new ResidualMlpNetwork(shape, d, false),
    shape.dataDim,
    (m) => m.readFrom(d),
    (m, xt, t, rows, r, labels) => {
      const shared = typeof t === 'number';
      if (!shared) m.setTime(t, rows, r);
      m.setInput(xt, rows, r);
      m.setLabels(labels, rows, r);
      return m.forward(rows, shared);
    },
    (m, t) => {
      if (typeof t === 'number') m.setSharedTime(t);
    },
  );
}
