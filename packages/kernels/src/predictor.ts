/**
 * The fused forward pass for sampling: a plain MLP denoiser evaluated in WebAssembly SIMD on
 * typed arrays. Samplers call the network once per step on all points, so per-op dispatch, not
 * arithmetic, dominates the tfjs path; here one call is a handful of wasm calls.
 */
import type { PlainMlpDescription } from '@diffusionlab/core';
import { mlpShape } from './describe.js';
import { MlpNetwork } from './mlp-network.js';

/** Rows evaluated per tile: 64 rows × 128 floats keep each layer's activations in L1/L2 cache. */
const TILE = 64;

/** A snapshot of a plain MLP's weights that predicts on typed arrays. */
export interface FusedMlpPredictor {
  /** Data dimension D (input rows are [n, D], outputs [n, D]). */
  readonly dataDim: number;
  /** The network output for n rows of xₜ ([n, D] row-major) at one timestep t (raw, as the model sees it). */
  predict(xt: Float32Array, t: number | Float32Array, n: number, out?: Float32Array): Float32Array;
  /** Re-reads the weights from the model's variables (after more training). */
  refresh(): void;
  dispose(): void;
}

/**
 * Builds a predictor from a model's {@link PlainMlpDescription}, or returns the reason it cannot
 * (unsupported activation, input or shapes), so callers fall back to `model.predict`.
 */
export function createFusedMlpPredictor(desc: PlainMlpDescription | null | undefined): FusedMlpPredictor | string {
  const shape = mlpShape(desc);
  if (typeof shape === 'string') return shape;
  const d = desc as PlainMlpDescription;
  let net: MlpNetwork | null = new MlpNetwork(shape, d, false);
  net.ensureCapacity(TILE);
  const D = shape.dataDim;
  const live = (): MlpNetwork => {
    if (!net) throw new Error('FusedMlpPredictor used after dispose()');
    return net;
  };
  return {
    dataDim: D,
    predict(xt, t, n, out = new Float32Array(n * D)) {
      const m = live();
      for (let r = 0; r < n; r += TILE) {
        const rows = Math.min(TILE, n - r);
        m.setInput(xt, t, rows, r);
        const y = m.forward(rows);
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
