/**
 * Prediction types and the conversions between ε, x₀ and v. They live here once; the training
 * target and every sampler go through these, so a model trained for one type is read correctly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from './errors.js';

/** What the network outputs: the noise ε (Ho et al. 2020), the clean sample x₀, or v (Salimans & Ho 2022). */
export type PredictionType = 'epsilon' | 'sample' | 'v';

/** All prediction types, for option schemas and error messages. */
export const PREDICTION_TYPES: readonly PredictionType[] = ['epsilon', 'sample', 'v'];

/** Guards a value read from a config or a checkpoint. */
export function assertPredictionType(value: unknown, path = 'training.predictionType'): PredictionType {
  if (typeof value === 'string' && (PREDICTION_TYPES as readonly string[]).includes(value)) return value as PredictionType;
  throw new ConfigError({ path, message: `unknown prediction type ${JSON.stringify(value)}`, choices: PREDICTION_TYPES });
}

/** A coefficient: a scalar (sampling, one t for the batch) or a tensor broadcastable over the batch. */
export type Coef = number | tf.Tensor;

const mul = (a: Coef, b: tf.Tensor): tf.Tensor => (typeof a === 'number' ? tf.mul(b, a) : tf.mul(b, a));

/**
 * The training target for one batch: ε, x₀, or v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans & Ho 2022, §4).
 * Scalar arithmetic on typed arrays, so the training loop uploads one target tensor.
 */
export function trainingTarget(type: PredictionType, x0: number, eps: number, sqrtAlphaBar: number, sqrtOneMinusAlphaBar: number): number {
  switch (type) {
    case 'epsilon':
      return eps;
    case 'sample':
      return x0;
    case 'v':
      return sqrtAlphaBar * eps - sqrtOneMinusAlphaBar * x0;
  }
}

/** Denominators below this are clamped, so ᾱ = 0 (zero terminal SNR) gives large but finite values. */
const TINY = 1e-12;

/**
 * Converts a raw model output at noise level ᾱ into (ε̂, x̂₀), using
 * xₜ = √ᾱ·x₀ + √(1−ᾱ)·ε (DDPM eq. 4) and, for v, x₀ = √ᾱ·xₜ − √(1−ᾱ)·v, ε = √(1−ᾱ)·xₜ + √ᾱ·v.
 * Callers own the returned tensors (use inside `tf.tidy`).
 */
export function toEpsilonAndX0(type: PredictionType, output: tf.Tensor, xt: tf.Tensor, alphaBar: number): { eps: tf.Tensor; x0: tf.Tensor } {
  const sa = Math.sqrt(alphaBar);
  const sb = Math.sqrt(1 - alphaBar);
  switch (type) {
    case 'epsilon':
      return { eps: output, x0: mul(1 / Math.max(sa, TINY), tf.sub(xt, mul(sb, output))) };
    case 'sample':
      return { x0: output, eps: mul(1 / Math.max(sb, TINY), tf.sub(xt, mul(sa, output))) };
    case 'v':
      return { x0: tf.sub(mul(sa, xt), mul(sb, output)), eps: tf.add(mul(sb, xt), mul(sa, output)) };
  }
}
