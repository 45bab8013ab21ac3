/**
 * Autoguidance (Karras et al. 2024, "Guiding a Diffusion Model with a Bad Version of Itself"): the
 * model's prediction is pushed away from that of a weaker copy of itself — here the same network's
 * sampling weights saved early in training. Where the two agree, nothing changes; where the weak
 * copy errs (blurry, off-manifold images), the extrapolation corrects in the direction training
 * was already moving. Unlike classifier-free guidance it needs no labels, so it sharpens an
 * unconditional model too.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DenoiserModel } from './spec.js';

/** The weaker model and how far to extrapolate away from it. */
export interface Autoguide {
  /** The guide D₀: a weaker version of the model (e.g. its EMA weights from early in training). */
  model: Pick<DenoiserModel, 'predict'>;
  /** Guidance weight w: 1 is the model alone, 0 the guide alone, w > 1 guides (Karras et al. use 1.5–3). */
  weight: number;
}

/** A model's raw output at xₜ and the network's time input (the DDPM step, or the flow time input). */
export type RawPredict = (xt: tf.Tensor, modelTime: number) => tf.Tensor;

/**
 * Karras et al. 2024, eq. 2: D_w(x; σ) = w·D₁(x; σ) + (1 − w)·D₀(x; σ), written D₀ + w·(D₁ − D₀). The
 * combination is taken on the raw output (ε, v or x₀ prediction): each of ε̂ and x̂₀ is affine in it
 * at fixed xₜ with weights summing to 1, so guiding the output is guiding the denoiser D itself.
 * w = 1 and w = 0 evaluate one network only.
 */
export function autoguidedPredict(main: RawPredict, guide: RawPredict, weight: number): RawPredict {
  if (!Number.isFinite(weight) || weight < 0) throw new Error(`autoguidance: weight must be a finite number ≥ 0, got ${weight}`);
  if (weight === 1) return main;
  if (weight === 0) return guide;
  return (xt, modelTime) =>
    tf.tidy(() => {
      const d0 = guide(xt, modelTime);
      return tf.add(d0, tf.mul(tf.sub(main(xt, modelTime), d0), weight));
    });
}
