/**
 * What every sampler in this package shares: the option schema fragment (steps, timestep spacing,
 * x̂₀ clipping and dynamic thresholding), step-count validation, timestep spacings, the (x̂₀, ε̂)
 * prediction with post-processing, and seeded noise upload. Kept in one place so that `steps`,
 * `timestepSpacing` and `clipSample` mean the same thing for every sampler.
 */
import { ConfigError, type DenoiseFn, type NoiseSchedule, type Rng, type SampleParams, type SamplerStepInfo, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';

/** Timestep spacings of diffusers (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Table 2). */
export const TIMESTEP_SPACINGS = ['linspace', 'leading', 'trailing'] as const;
/** One of {@link TIMESTEP_SPACINGS}. */
export type TimestepSpacing = (typeof TIMESTEP_SPACINGS)[number];

/** Dynamic thresholding settings (Saharia et al. 2022, §2.3); `false` turns it off. */
export type Thresholding = false | { ratio: number; maxValue: number };

/** Post-processing of x̂₀ shared by all samplers. */
export interface X0Processing {
  clipSample: number | false;
  thresholding: Thresholding;
}

/**
 * The option fields every sampler accepts, spread into each sampler's `z.object({...}).strict()`;
 * why: one definition keeps names, defaults and messages identical across samplers.
 */
export const commonOptionFields = {
  steps: z
    .number({ error: 'sampler steps must be a number' })
    .int({ error: 'steps must be a positive integer' })
    .positive({ error: 'steps must be a positive integer' })
    .optional()
    .describe("Number of sampler steps (≤ the schedule's T); omitted → the sampler's default"),
  timestepSpacing: z
    .enum(TIMESTEP_SPACINGS)
    .default('trailing')
    .describe('How steps are placed on [0, T): linspace, leading or trailing (diffusers; trailing starts at T−1, Lin et al. 2024)'),
  clipSample: z
    .union([z.number().positive({ error: 'clipSample must be a positive number or false' }), z.literal(false)])
    .default(false)
    .describe('Clip x̂₀ to [−c, c] at every step (false: no clipping)'),
  thresholding: z
    .union([
      z.literal(false),
      z
        .object({
          ratio: z.number().gt(0).lte(1).default(0.995).describe('Quantile p of abs(x̂₀) per sample'),
          maxValue: z.number().gte(1).default(1).describe('Upper bound of the threshold s'),
        })
        .strict(),
    ])
    .default(false)
    .describe('Dynamic thresholding of x̂₀ (Saharia et al. 2022): s = clamp(p-quantile of abs(x̂₀), 1, maxValue), x̂₀ ← clamp(x̂₀, −s, s)/s; false: off'),
};

/**
 * The default bound on the σ a σ-space run starts from: EDM's σ_max = 80 (Karras et al. 2022, §5 and
 * Table 1). Why: past it the data's share of x_σ = x₀ + σ·ε is below 10⁻³ of its variance, so a
 * larger start buys nothing, while steps from σ in the thousands cost accuracy (Heun's trapezoid and
 * DPM-2's midpoint scale the denoiser's change by σ/σ', and Karras σ spend most steps up there).
 */
export const DEFAULT_SIGMA_MAX = 80;

/**
 * The `sigmas` option with a given default; why: one definition for every σ-space sampler, while
 * Heun defaults to Karras σ, the discretisation its reference (Karras et al. 2022, Alg. 1 with
 * eq. 5) pairs it with.
 */
export function sigmasOption(defaultValue: 'default' | 'karras') {
  return z.enum(['default', 'karras']).default(defaultValue).describe('default: σ at the spaced timesteps; karras: Karras et al. 2022 eq. 5 with ρ = 7 (ignores timestepSpacing)');
}

/** σ placement for samplers that work in σ-space (Karras et al. 2022). */
export const sigmaOptionFields = {
  sigmas: sigmasOption('default'),
  sigmaMax: z
    .union([z.number({ error: 'sigmaMax must be a positive number or false' }).positive({ error: 'sigmaMax must be a positive number or false' }), z.literal(false)])
    .default(DEFAULT_SIGMA_MAX)
    .describe(
      'Largest finite σ a run starts from (EDM: 80). When the schedule ends above it, the spaced timesteps are scaled into [0, t(sigmaMax)] and Karras σ ramp down from it; a zero-terminal-SNR start (σ = ∞) is kept. false: no bound',
    ),
};

/**
 * The η option of the samplers that mix fresh noise into a deterministic step (DDIM eq. 16, the
 * ancestral and SDE solvers); why: one range check and one error text, whatever each sampler's
 * default and the meaning its description gives the two ends.
 */
export function etaOption(defaultValue: 0 | 1, description: string) {
  return z
    .number({ error: 'eta must be a number in [0, 1]' })
    .min(0, { error: 'eta must lie in [0, 1]' })
    .max(1, { error: 'eta must lie in [0, 1]' })
    .default(defaultValue)
    .describe(description);
}

/** Options every sampler's create() receives after parsing. */
export interface CommonOptions extends X0Processing {
  steps?: number;
  timestepSpacing: TimestepSpacing;
}

/** Rejects clipping and thresholding together; why: which one wins would otherwise be a silent choice. */
export function checkProcessing(o: X0Processing): void {
  if (o.clipSample !== false && o.thresholding !== false) {
    throw new ConfigError({ path: 'sampler.thresholding', message: 'set either clipSample or thresholding, not both' });
  }
}

/**
 * Validates a step count against the schedule; why: this is the one steps ≤ T check — every built-in
 * sampler runs it in `timesteps()`, `sample()` and its `check` hook ({@link configuredStepsCheck}),
 * which the runner calls before any work. `steps` may come from the call as well as the options, and
 * only here is T known, so the error names `sampler.steps` either way.
 */
export function validateSteps(steps: number, schedule: NoiseSchedule): number {
  const T = schedule.numTrainTimesteps;
  if (!Number.isInteger(steps) || steps <= 0) {
    throw new ConfigError({ path: 'sampler.steps', message: `steps must be a positive integer, got ${steps}` });
  }
  if (steps > T) {
    throw new ConfigError(
      { path: 'sampler.steps', message: `${steps} sampling steps exceed the schedule's ${T} training timesteps` },
      { hint: `use at most sampler.steps=${T}, or a schedule with more timesteps (schedule.timesteps)` },
    );
  }
  return steps;
}

/**
 * A sampler's `check` hook: refuses a configured `steps` the schedule cannot take, with
 * {@link validateSteps}; why: the runner refuses it before training without reading the sampler's
 * options. An unset count is the sampler's default, checked when it samples, as before.
 */
export function configuredStepsCheck(steps: number | undefined): (schedule: NoiseSchedule) => void {
  return (schedule) => {
    if (steps !== undefined) validateSteps(steps, schedule);
  };
}

/** Rounds half to even, as numpy's `round`; why: diffusers' spacings round with numpy, and ties occur (e.g. T/steps = 62.5). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The decreasing timesteps for a spacing, as diffusers computes them (Lin et al. 2024, Table 2):
 * linspace = round(linspace(0, T−1, S)) reversed, leading = ⌊T/S⌋·i reversed,
 * trailing = round(T − i·T/S) − 1. `fractional` keeps linspace unrounded, as diffusers' σ-space
 * schedulers (and k-diffusion) do. With S = T all three visit every t = T−1 … 0. S = 1 gives [T−1]
 * for linspace (a one-step sampler must start from the noisiest step).
 */
export function spacedTimesteps(T: number, steps: number, spacing: TimestepSpacing, fractional = false): number[] {
  const out: number[] = [];
  switch (spacing) {
    case 'linspace':
      if (steps === 1) return [T - 1];
      for (let i = steps - 1; i >= 0; i--) {
        const v = (i * (T - 1)) / (steps - 1);
        out.push(fractional ? v : roundHalfEven(v));
      }
      return out;
    case 'leading': {
      const ratio = Math.floor(T / steps);
      for (let i = steps - 1; i >= 0; i--) out.push(i * ratio);
      return out;
    }
    case 'trailing':
      for (let i = 0; i < steps; i++) out.push(roundHalfEven((T * (steps - i)) / steps) - 1);
      return out;
  }
}

/** True when x̂₀ is post-processed at all (then ε̂ is re-derived from the processed x̂₀). */
export function processes(p: X0Processing): boolean {
  return p.clipSample !== false || p.thresholding !== false;
}

/**
 * Dynamic thresholding (Saharia et al. 2022, §2.3): per sample, s = clamp(quantile_p(|x̂₀|), 1, max),
 * then x̂₀ ← clamp(x̂₀, −s, s)/s. The quantile interpolates linearly, as torch.quantile. Call in tf.tidy.
 */
export function dynamicThreshold(x0: tf.Tensor, ratio: number, maxValue: number): tf.Tensor {
  const n = x0.shape[0];
  const D = x0.size / n;
  const flat = tf.reshape(x0, [n, D]);
  const sorted = tf.topk(tf.abs(flat), D).values; // descending per row
  const q = ratio * (D - 1);
  const lo = Math.floor(q);
  const hi = Math.min(D - 1, lo + 1);
  const f = q - lo;
  const at = (k: number) => tf.slice(sorted, [0, D - 1 - k], [n, 1]);
  const quant = f === 0 ? at(lo) : tf.add(tf.mul(at(lo), 1 - f), tf.mul(at(hi), f));
  const s = tf.clipByValue(quant, 1, maxValue);
  const clipped = tf.div(tf.minimum(tf.maximum(flat, tf.neg(s)), s), s);
  return tf.reshape(clipped, x0.shape);
}

/** Applies clipping or dynamic thresholding to x̂₀ (identity when both are off). Call in tf.tidy. */
export function processX0(x0: tf.Tensor, p: X0Processing): tf.Tensor {
  if (p.thresholding !== false) return dynamicThreshold(x0, p.thresholding.ratio, p.thresholding.maxValue);
  if (p.clipSample !== false) return tf.clipByValue(x0, -p.clipSample, p.clipSample);
  return x0;
}

/**
 * Calls the model at timestep t with noise level ᾱ and returns (x̂₀, ε̂). When x̂₀ is clipped or
 * thresholded, ε̂ is re-derived from it with xₜ = √ᾱ·x̂₀ + √(1−ᾱ)·ε̂ (DDPM eq. 4), so the pair stays
 * consistent (diffusers' `use_clipped_model_output`). 1 − ᾱ > 0 always, since β₀ > 0. Call in tf.tidy.
 */
export function predict(denoise: DenoiseFn, x: tf.Tensor, t: number, alphaBar: number, p: X0Processing): { x0: tf.Tensor; eps: tf.Tensor } {
  const out = denoise(x, t);
  if (!processes(p)) return out;
  const x0 = processX0(out.x0, p);
  const eps = tf.div(tf.sub(x, tf.mul(x0, Math.sqrt(alphaBar))), Math.sqrt(1 - alphaBar));
  return { x0, eps };
}

/**
 * n·D standard normals from the seeded Rng, uploaded as a tensor; why: never tf.random*, so a seed
 * gives the same samples on every backend.
 */
export function normalTensor(rng: Rng, n: number, shape: readonly number[]): tf.Tensor {
  const D = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normalArray(n * D), [n, ...shape], 'float32');
}

/**
 * Replaces a state tensor by `f()` computed in tf.tidy and disposes the old one; why: each step owns
 * exactly one live state tensor, so a run never leaks.
 */
export function advance(x: tf.Tensor, f: () => tf.Tensor): tf.Tensor {
  const next = tf.tidy(f);
  x.dispose();
  return next;
}

/** Calls onStep with a view of the state made by `view` (disposed right after); a no-op without onStep. */
export function report(onStep: SampleParams['onStep'], info: Omit<SamplerStepInfo, 'x'>, x: tf.Tensor, view?: (x: tf.Tensor) => tf.Tensor): void {
  if (!onStep) return;
  if (!view) {
    onStep({ ...info, x });
    return;
  }
  const v = tf.tidy(() => view(x));
  try {
    onStep({ ...info, x: v });
  } finally {
    if (v !== x) v.dispose();
  }
}

/**
 * tf.tidy for a multistep solver's step that also keeps this step's x̂₀ for the next one; why: tidy
 * keeps only what it returns, and x̂₀ is absent on the last step.
 */
export function tidyStep(f: () => { x: tf.Tensor; x0: tf.Tensor | null }): { x: tf.Tensor; x0: tf.Tensor | null } {
  const out = tf.tidy(() => {
    const r = f();
    return r.x0 === null || r.x0 === r.x ? [r.x] : [r.x, r.x0];
  });
  return { x: out[0], x0: out[1] ?? null };
}
