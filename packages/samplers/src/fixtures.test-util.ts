/** Test fixtures shared by this package's tests (excluded from the build). */
import { type NoiseSchedule, Rng, type Sampler, samplerObjectives, scheduleFromBetas } from '@diffusionlab/core';
import { gaussianDenoiser } from '@diffusionlab/testkit';
import * as tf from '@tensorflow/tfjs-core';
import { plugins } from './index.js';

/** The data every distribution test targets: N(μ, s²), away from N(0, 1) in both moments. */
export const MU = 1.5;
export const S = 0.5;

/** DDPM's linear β schedule (Ho et al. 2020 §4; the reference uses T = 100), via core's scheduleFromBetas. */
export function linearSchedule(T: number, start = 1e-4, end = 0.02): NoiseSchedule {
  const b = new Float64Array(T);
  for (let t = 0; t < T; t++) b[t] = start + (t * (end - start)) / (T - 1);
  return scheduleFromBetas('linear', b);
}

/** The linear schedule rescaled to zero terminal SNR (Lin et al. 2024, Alg. 1): ᾱ_{T−1} = 0, β_{T−1} = 1. */
export function zeroSnrSchedule(T: number): NoiseSchedule {
  const ab = linearSchedule(T).alphasCumprod;
  const s = Array.from(ab, Math.sqrt);
  const first = s[0];
  const last = s[T - 1];
  const rescaled = s.map((v) => ((v - last) * first) / (first - last));
  const betas = new Float64Array(T);
  let prev = 1;
  for (let t = 0; t < T; t++) {
    const a = rescaled[t] * rescaled[t];
    betas[t] = t === T - 1 ? 1 : 1 - a / prev;
    prev = a;
  }
  return scheduleFromBetas('linear-zsnr', betas);
}

/** One run with the exact Gaussian denoiser, recording calls, every x̂₀ returned, and onStep events. */
export async function traceRun(sampler: Sampler, schedule: NoiseSchedule, n: number, seed: number, steps?: number) {
  const base = gaussianDenoiser(MU, S, schedule);
  let calls = 0;
  const calledAt: number[] = [];
  let lastX0: Float32Array | null = null;
  const events: { step: number; total: number; t: number; shape: number[]; x: Float32Array }[] = [];
  const before = tf.memory().numTensors;
  const out = await sampler.sample({
    denoise: (x, t) => {
      calls++;
      calledAt.push(t);
      const r = base(x, t);
      lastX0 = r.x0.dataSync().slice() as Float32Array;
      return r;
    },
    schedule,
    shape: [1],
    n,
    steps,
    rng: new Rng(seed),
    onStep: (e) => events.push({ step: e.step, total: e.total, t: e.t, shape: [...e.x.shape], x: e.x.dataSync().slice() as Float32Array }),
  });
  const x = out.x.dataSync().slice() as Float32Array;
  const shape = [...out.x.shape];
  out.x.dispose();
  const leaked = tf.memory().numTensors - before;
  return { x, shape, nfe: out.nfe, calls, calledAt, lastX0: lastX0 as Float32Array | null, events, leaked };
}

/**
 * The cosine schedule (Nichol & Dhariwal 2021, eq. 17, s = 0.008) with β clipped at 0.999, as the
 * `cosine` schedule plugin builds it: for T = 1000 it ends at σ(T−1) ≈ 2·10⁴, the case the σ_max
 * bound exists for.
 */
export function cosineSchedule(T: number): NoiseSchedule {
  const f = (t: number) => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const b = new Float64Array(T);
  for (let t = 0; t < T; t++) b[t] = Math.min(1 - f(t + 1) / f(t), 0.999);
  return scheduleFromBetas('cosine', b);
}

/**
 * The plugins whose samplers integrate DDPM-family models (ε/x₀/v), by what each declares
 * (`Sampler.objectives`); the flow-matching samplers have their own tests (flow.test.ts).
 */
export const ddpmFamilyPlugins = plugins.filter((p) =>
  samplerObjectives(p.create(p.options.parse({}), { seed: 0, print: () => {}, interactive: false }) as Sampler).includes('ddpm'),
);
