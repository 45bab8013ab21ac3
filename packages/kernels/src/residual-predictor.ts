/**
 * The fused forward pass for sampling with the residual MLP (`mlp` denoiser): the network evaluated
 * in WebAssembly SIMD on typed arrays, behind the same {@link FusedMlpPredictor} interface as the
 * plain MLP's. With one t for the whole batch (every sampler step) the time embedding and each
 * block's time projection are computed once and folded into a bias.
 */
import type { ResidualMlpDescription } from '@diffusionlab/core';
import type { FusedMlpPredictor } from './predictor.js';
import { ResidualMlpNetwork, residualMlpShape } from './residual-mlp-network.js';
import { simdSupported } from './wasm.js';

/** Rows evaluated per tile: 64 rows × 128 floats keep each layer's activations in L1/L2 cache. */
const TILE = 64;

/**
 * Builds a predictor from a model's {@link ResidualMlpDescription}, or returns the reason it cannot,
 * so callers fall back to `model.predict`. The weights are read once, here (and on refresh()).
 */
export function createFusedResidualMlpPredictor(desc: ResidualMlpDescription | null | undefined): FusedMlpPredictor | string {
  const shape = residualMlpShape(desc);
  if (typeof shape === 'string') return shape;
  if (!simdSupported()) return 'this runtime does not support WebAssembly SIMD';
  const d = desc as ResidualMlpDescription;
  let net: ResidualMlpNetwork | null = new ResidualMlpNetwork(shape, d, false);
  net.ensureCapacity(TILE);
  const D = shape.dataDim;
  const live = (): ResidualMlpNetwork => {
    if (!net) throw new Error('FusedMlpPredictor used after dispose()');
    return net;
  };
  return {
    dataDim: D,
    predict(xt, t, n, out = new Float32Array(n * D)) {
      const m = live();
      const shared = typeof t === 'number';
      if (shared) m.setSharedTime(t);
      for (let r = 0; r < n; r += TILE) {
        const rows = Math.min(TILE, n - r);
        if (!shared) m.setTime(t, rows, r);
        m.setInput(xt, rows, r);
        const y = m.forward(rows, shared);
        out.set(m.inst.view(y, rows * D), r * D);
      }
      return out;
    },
    refresh() {
      live().readFrom(d);
    },
    dispose() {
      net = null;
    },
  };
}
