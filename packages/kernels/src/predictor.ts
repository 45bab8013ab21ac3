/**
 * The fused forward pass for sampling: a plain MLP denoiser evaluated in WebAssembly SIMD on
 * typed arrays. Samplers call the network once per step on all points, so per-op dispatch, not
 * arithmetic, dominates the tfjs path; here one call is a handful of wasm calls.
 */
import type { PlainMlpDescription } from '@diffusionlab/core';
import { mlpShape } from './describe.js';
import { MlpNetwork } from './mlp-network.js';
import type { KernelInstance } from './wasm.js';

/** Rows evaluated per tile: 64 rows × 128 floats keep each layer's activations in L1/L2 cache. */
const TILE = 64;

/** A snapshot of a plain MLP's weights that predicts on typed arrays. */
export interface FusedMlpPredictor {
  /** Data dimension D (input rows are [n, D], outputs [n, D]). */
  readonly dataDim: number;
  /**
   * The network output for n rows of xₜ ([n, D] row-major) at one timestep t (raw, as the model
   * sees it). `labels` ([n] classes in [0, K]) feed a class-conditional network, which predicts the
   * null class K without them; an unconditional network ignores them, as the model does.
   */
  predict(xt: Float32Array, t: number | Float32Array, n: number, out?: Float32Array, labels?: ArrayLike<number>): Float32Array;
  /** Re-reads the weights from the model's variables (after more training). */
  refresh(): void;
  dispose(): void;
}

/** What {@link tiledPredictor} needs of a kernel network. */
interface TileNetwork {
  readonly inst: KernelInstance;
  ensureCapacity(rows: number): void;
}

/**
 * The tiling, lifetime and refresh every fused predictor shares: `forwardTile` evaluates rows
 * [row0, row0 + rows) (with the call's labels, if any) and returns the output's pointer;
 * `beforeTiles` runs once per call (e.g. to fold a batch-wide t into biases); `refresh` re-reads the weights.
 */
export function tiledPredictor<N extends TileNetwork>(
  network: N,
  dataDim: number,
  refresh: (net: N) => void,
  forwardTile: (net: N, xt: Float32Array, t: number | Float32Array, rows: number, row0: number, labels?: ArrayLike<number>) => number,
  beforeTiles?: (net: N, t: number | Float32Array) => void,
): FusedMlpPredictor {
  let net: N | null = network;
  net.ensureCapacity(TILE);
  const live = (): N => {
    if (!net) throw new Error('FusedMlpPredictor used after dispose()');
    return net;
  };
  return {
    dataDim,
    predict(xt, t, n, out = new Float32Array(n * dataDim), labels) {
      const m = live();
      if (labels && labels.length !== n) throw new Error(`FusedMlpPredictor: ${labels.length} labels for ${n} rows`);
      beforeTiles?.(m, t);
      for (let r = 0; r < n; r += TILE) {
        const rows = Math.min(TILE, n - r);
        const y = forwardTile(m, xt, t, rows, r, labels);
        out.set(m.inst.view(y, rows * dataDim), r * dataDim);
      }
      return out;
    },
    refresh() {
      refresh(live());
    },
    dispose() {
      net = null;
    },
  };
}

/**
 * Builds a predictor from a model's {@link PlainMlpDescription}, or returns the reason it cannot
 * (unsupported activation, input or shapes), so callers fall back to `model.predict`.
 */
export function createFusedMlpPredictor(desc: PlainMlpDescription | null | undefined): FusedMlpPredictor | string {
  const shape = mlpShape(desc);
  if (typeof shape === 'string') return shape;
  const d = desc as PlainMlpDescription;
  return tiledPredictor(
    new MlpNetwork(shape, d, false),
    shape.dataDim,
    (m) => m.readFrom(d),
    (m, xt, t, rows, r) => {
      m.setInput(xt, t, rows, r);
      return m.forward(rows);
    },
  );
}
