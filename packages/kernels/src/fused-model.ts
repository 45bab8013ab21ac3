/**
 * A plain or residual MLP denoiser's `predict` run by the fused forward kernels, behind the same tensor
 * interface as the model's own: any sampler that calls `model.predict` (through core's
 * generateSamples) gets the fused forward pass without knowing about it. The sampler's own update
 * arithmetic stays on tfjs, so its math is untouched.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DenoiserModel } from '@diffusionlab/core';
import { conditionalDecline } from './describe.js';
import { createFusedMlpPredictor, type FusedMlpPredictor } from './predictor.js';
import { createFusedResidualMlpPredictor } from './residual-predictor.js';
import { createFusedUnetPredictor } from './unet-predictor.js';
import { declineIfTooBig } from './wasm.js';

/** The fused path's name, as run records write it (`sampling.path: "fused:wasm-simd-mlp"`). */
export const FUSED_MLP_PATH = 'fused:wasm-simd-mlp';

/** The fused U-Net forward pass's path, as run records write it. */
export const FUSED_UNET_PREDICT_PATH = 'fused:wasm-simd-unet';

/** A drop-in for {@link DenoiserModel.predict} backed by a weight snapshot in kernel memory. */
export interface FusedPredictModel extends Pick<DenoiserModel, 'predict'> {
  /** `fused:wasm-simd-mlp`. */
  readonly path: string;
  /** Re-reads the model's weights (after more training). */
  refresh(): void;
  dispose(): void;
}

/** Which model kinds {@link createFusedPredictModel} may take. */
export interface FusedPredictOptions {
  /**
   * Also run residual MLPs (`describe()` kind `residual-mlp`, the `mlp` denoiser). Off by default so callers
   * that route only plain MLPs (the runner's sampling path today) keep their behaviour until they opt in.
   */
  residual?: boolean;
  /** Also run U-Nets (`describe()` kind `unet`); off by default, as `residual` was, until callers opt in. */
  unet?: boolean;
}

/**
 * Wraps a model whose `describe()` names a plain MLP (or, with `residual`, a residual MLP) the
 * kernels can run; returns the reason otherwise, so callers fall back to the model's own predict.
 * A class-conditional residual MLP (its description carrying the class embedding) runs too, with
 * the labels `predict` is given; other conditional models are declined. The weights are read once, here.
 */
export function createFusedPredictModel(model: Pick<DenoiserModel, 'describe' | 'labelNames'>, options: FusedPredictOptions = {}): FusedPredictModel | string {
  const desc = model.describe?.();
  const conditional = conditionalDecline(model, desc);
  if (conditional) return conditional;
  const classes = model.labelNames?.length ?? 0;
  let predictor: FusedMlpPredictor | string;
  if (desc?.kind === 'plain-mlp') predictor = declineIfTooBig(() => createFusedMlpPredictor(desc));
  else if (options.residual && desc?.kind === 'residual-mlp') predictor = declineIfTooBig(() => createFusedResidualMlpPredictor(desc));
  else if (options.unet && desc?.kind === 'unet') predictor = declineIfTooBig(() => createFusedUnetPredictor(desc));
  else {
    const said = desc ? ` (its describe() says '${desc.kind}')` : ' (it does not describe itself)';
    const kinds = ['a plain MLP', ...(options.residual ? ['a residual MLP'] : []), ...(options.unet ? ['a U-Net'] : [])];
    return `the model is not ${kinds.join(' nor ')}${said}`;
  }
  if (typeof predictor === 'string') return predictor;
  const D = predictor.dataDim;
  return {
    path: desc?.kind === 'unet' ? FUSED_UNET_PREDICT_PATH : FUSED_MLP_PATH,
    predict(xt: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor): tf.Tensor {
      const n = xt.shape[0] ?? 0;
      if (xt.size !== n * D) throw new Error(`fused predict: xₜ of shape [${xt.shape}] does not have ${D} values per row`);
      if (t.size !== n) throw new Error(`fused predict: t has ${t.size} values for ${n} rows`);
      const raw = xt.dataSync();
      const x = raw instanceof Float32Array ? raw : Float32Array.from(raw as ArrayLike<number>);
      const ts = t.dataSync();
      // samplers pass one t for the whole batch; a per-row t is honoured too
      let same = true;
      for (let i = 1; i < n && same; i++) same = ts[i] === ts[0];
      const tArg = same ? (n > 0 ? ts[0] : 0) : Float32Array.from(ts);
      // a conditional model takes each row's class (none: the null class); an unconditional one ignores labels, as the model does
      let ys: ArrayLike<number> | undefined;
      if (classes > 0 && labels) {
        if (labels.size !== n) throw new Error(`fused predict: labels has ${labels.size} values for ${n} rows`);
        ys = labels.dataSync();
      }
      // a fresh array each call: the cpu backend keeps the array it is given as the tensor's storage
      return tf.tensor(predictor.predict(x, tArg, n, undefined, ys), xt.shape, 'float32');
    },
    refresh: () => predictor.refresh(),
    dispose: () => predictor.dispose(),
  };
}
