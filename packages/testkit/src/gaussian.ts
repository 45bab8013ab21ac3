/**
 * An exact denoiser for 1-D Gaussian data, so sampler tests have a ground truth that needs no
 * training: for x₀ ~ N(μ, s²) and xₜ = √ᾱ·x₀ + √(1−ᾱ)·ε, every posterior quantity is closed-form.
 */
import { alphaBarAt, type DenoiseFn, type NoiseSchedule } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The posterior-mean coefficients at noise level ᾱ: E[x₀|xₜ] = μ + kx·(xₜ − √ᾱμ) and
 * E[ε|xₜ] = ke·(xₜ − √ᾱμ), with v = ᾱs² + 1 − ᾱ = Var(xₜ), kx = √ᾱ s²/v, ke = √(1−ᾱ)/v
 * (Gaussian conditioning; Cov(x₀, xₜ) = √ᾱ s², Cov(ε, xₜ) = √(1−ᾱ)).
 */
export function gaussianPosterior(mu: number, s: number, alphaBar: number): { kx: number; ke: number; shift: number } {
  const v = alphaBar * s * s + (1 - alphaBar);
  return { kx: (Math.sqrt(alphaBar) * s * s) / v, ke: Math.sqrt(1 - alphaBar) / v, shift: Math.sqrt(alphaBar) * mu };
}

/**
 * A {@link DenoiseFn} returning the exact E[ε|xₜ] and E[x₀|xₜ] for data N(μ, s²) in every
 * coordinate, with ᾱ at fractional t from core's `alphaBarAt` (the map samplers place steps with).
 * They satisfy xₜ = √ᾱ·x̂₀ + √(1−ᾱ)·ε̂ exactly. The caller owns the returned tensors.
 */
export function gaussianDenoiser(mu: number, s: number, schedule: NoiseSchedule): DenoiseFn {
  if (!(s > 0)) throw new RangeError(`gaussianDenoiser: s must be > 0, got ${s}`);
  return (xt, t) =>
    tf.tidy(() => {
      const { kx, ke, shift } = gaussianPosterior(mu, s, alphaBarAt(schedule, t));
      const centred = tf.sub(xt, shift);
      return { x0: tf.add(tf.mul(centred, kx), mu), eps: tf.mul(centred, ke) };
    });
}

/**
 * The flow-matching counterpart of {@link gaussianDenoiser}: for x₀ ~ N(μ, s²) on the linear path
 * xₜ = (1 − t)·x₀ + t·ε (Lipman et al. 2023 eq. 22), with a = 1 − t, Var(xₜ) = a²s² + t²,
 * E[x₀|xₜ] = μ + a s²/Var · (xₜ − aμ) and E[ε|xₜ] = t/Var · (xₜ − aμ) (Gaussian conditioning), so
 * ε̂ − x̂₀ is the exact velocity; t is the flow time in [0, 1], as core gives flow samplers their
 * model. The caller owns the returned tensors.
 */
export function gaussianFlowDenoiser(mu: number, s: number): DenoiseFn {
  if (!(s > 0)) throw new RangeError(`gaussianFlowDenoiser: s must be > 0, got ${s}`);
  return (xt, t) =>
    tf.tidy(() => {
      const a = 1 - t;
      const v = a * a * s * s + t * t;
      const centred = tf.sub(xt, a * mu);
      return { x0: tf.add(tf.mul(centred, (a * s * s) / v), mu), eps: tf.mul(centred, t / v) };
    });
}
