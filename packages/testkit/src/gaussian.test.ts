import { alphaBarAt, scheduleFromBetas } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoTensorLeak } from './assertions.js';
import { activateBackendBeforeAll } from './backend.js';
import { gaussianDenoiser, gaussianFlowDenoiser } from './gaussian.js';

activateBackendBeforeAll('cpu');

/** E[x₀ | xₜ] by trapezoidal quadrature of N(x₀; μ, s²)·N(xₜ; √ᾱ x₀, 1 − ᾱ): independent of the closed form. */
function posteriorMeanByQuadrature(mu: number, s: number, ab: number, xt: number): number {
  let num = 0;
  let den = 0;
  const N = 8001;
  const lo = mu - 12 * s;
  const h = (24 * s) / (N - 1);
  for (let i = 0; i < N; i++) {
    const x0 = lo + i * h;
    const w = (i === 0 || i === N - 1 ? 0.5 : 1) * Math.exp(-((x0 - mu) ** 2) / (2 * s * s) - (xt - Math.sqrt(ab) * x0) ** 2 / (2 * (1 - ab)));
    num += w * x0;
    den += w;
  }
  return num / den;
}

describe('gaussianDenoiser', () => {
  const T = 50;
  const schedule = scheduleFromBetas(
    'linear',
    Array.from({ length: T }, (_, t) => 1e-3 + (t * (0.1 - 1e-3)) / (T - 1)),
  );
  const mu = 1.5;
  const s = 0.4;
  const xs = [-3, -0.7, 0, 0.9, 2.2];

  for (const t of [0, 7, 23.5, 49]) {
    it(`x̂₀ at t = ${t} matches quadrature of the posterior, and xₜ = √ᾱ x̂₀ + √(1−ᾱ) ε̂`, async () => {
      const den = gaussianDenoiser(mu, s, schedule);
      const ab = alphaBarAt(schedule, t);
      const { x0, eps } = await expectNoTensorLeak(() =>
        tf.tidy(() => {
          const out = den(tf.tensor2d(xs, [xs.length, 1]), t);
          return { x0: out.x0.dataSync().slice(), eps: out.eps.dataSync().slice() };
        }),
      );
      expectClose(
        x0,
        xs.map((x) => posteriorMeanByQuadrature(mu, s, ab, x)),
        1e-5,
      );
      expectClose(
        xs.map((_, i) => Math.sqrt(ab) * x0[i] + Math.sqrt(1 - ab) * eps[i]),
        xs,
        1e-5,
      );
    });
  }

  it('at ᾱ = 0 (zero terminal SNR) predicts x̂₀ = μ and ε̂ = xₜ', () => {
    const z = scheduleFromBetas('z', [0.5, 1]);
    const out = gaussianDenoiser(mu, s, z)(tf.tensor1d([0.3, -2]), 1);
    expectClose(out.x0.dataSync(), [mu, mu], 1e-6);
    expectClose(out.eps.dataSync(), [0.3, -2], 1e-6);
    tf.dispose([out.x0, out.eps]);
  });

  it('rejects s ≤ 0', () => {
    expect(() => gaussianDenoiser(0, 0, schedule)).toThrow(RangeError);
  });
});

/** E[x₀ | xₜ] on the flow path xₜ = (1 − t)·x₀ + t·ε, by trapezoidal quadrature (independent of the closed form). */
function flowPosteriorMeanByQuadrature(mu: number, s: number, t: number, xt: number): number {
  let num = 0;
  let den = 0;
  const N = 8001;
  const lo = mu - 12 * s;
  const h = (24 * s) / (N - 1);
  for (let i = 0; i < N; i++) {
    const x0 = lo + i * h;
    const w = (i === 0 || i === N - 1 ? 0.5 : 1) * Math.exp(-((x0 - mu) ** 2) / (2 * s * s) - (xt - (1 - t) * x0) ** 2 / (2 * t * t));
    num += w * x0;
    den += w;
  }
  return num / den;
}

describe('gaussianFlowDenoiser', () => {
  const mu = 1.5;
  const s = 0.4;
  const xs = [-3, -0.7, 0, 0.9, 2.2];
  for (const t of [0.2, 0.5, 0.9]) {
    it(`x̂₀ at flow time ${t} matches quadrature of the posterior, and xₜ = (1 − t)·x̂₀ + t·ε̂`, async () => {
      const den = gaussianFlowDenoiser(mu, s);
      const { x0, eps } = await expectNoTensorLeak(() =>
        tf.tidy(() => {
          const out = den(tf.tensor2d(xs, [xs.length, 1]), t);
          return { x0: out.x0.dataSync().slice(), eps: out.eps.dataSync().slice() };
        }),
      );
      expectClose(
        x0,
        xs.map((x) => flowPosteriorMeanByQuadrature(mu, s, t, x)),
        1e-5,
      );
      expectClose(
        xs.map((_, i) => (1 - t) * x0[i] + t * eps[i]),
        xs,
        1e-5,
      );
    });
  }

  it('at t = 1 (pure noise) predicts x̂₀ = μ and ε̂ = xₜ; at t = 0 x̂₀ = xₜ and ε̂ = 0', () => {
    const den = gaussianFlowDenoiser(mu, s);
    const at = (t: number) =>
      tf.tidy(() => {
        const out = den(tf.tensor2d(xs, [xs.length, 1]), t);
        return { x0: out.x0.dataSync().slice(), eps: out.eps.dataSync().slice() };
      });
    expectClose(
      at(1).x0,
      xs.map(() => mu),
      1e-6,
    );
    expectClose(at(1).eps, xs, 1e-6);
    expectClose(at(0).x0, xs, 1e-6);
    expectClose(
      at(0).eps,
      xs.map(() => 0),
      1e-6,
    );
  });
});
