/**
 * σ-space machinery for the Karras-style samplers (Euler, Heun, DPM-Solver++): the σ grid, the
 * scaled state x_σ = xₜ/√ᾱ (Karras et al. 2022 §C.2, x = x₀ + σ·ε), and one model call in that view.
 * Every σ is computed from its timestep with core's `alphaBarAt`, so the noise level a sampler
 * assumes is exactly the one the model is told.
 */
import { alphaBarAt, type DenoiseFn, type NoiseSchedule, type SampleParams, sigmaOf, timestepForSigma, type Sampler } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  type CommonOptions,
  checkProcessing,
  configuredStepsCheck,
  DEFAULT_SIGMA_MAX,
  normalTensor,
  predict,
  report,
  spacedTimesteps,
  validateSteps,
  type X0Processing,
} from './common.js';

/** ρ of Karras et al. 2022 eq. 5 (their recommended value). */
export const KARRAS_RHO = 7;

/** Options every σ-space sampler receives. */
export interface SigmaOptions extends CommonOptions {
  sigmas: 'default' | 'karras';
  /** Bound on the largest finite σ a run starts from ({@link DEFAULT_SIGMA_MAX}); false: none. Omitted → the default. */
  sigmaMax?: number | false;
}

/** The grid one σ-space sampling run walks. */
export interface SigmaPlan {
  /** Visited timesteps, decreasing (length = steps). */
  timesteps: number[];
  /** ᾱ at each visited timestep (alphaBarAt). */
  alphaBars: number[];
  /** σ at each visited timestep, then a final 0 (length = steps + 1); the first is ∞ under zero terminal SNR. */
  sigmas: number[];
}

/**
 * Karras et al. 2022 eq. 5: σᵢ = (σ_max^{1/ρ} + i/(N−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, i = 0 … N−1;
 * why: it concentrates steps at low noise, where the ODE curves most.
 */
export function karrasSigmas(n: number, sigmaMin: number, sigmaMax: number, rho = KARRAS_RHO): number[] {
  if (n === 1) return [sigmaMax];
  const a = sigmaMax ** (1 / rho);
  const b = sigmaMin ** (1 / rho);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((a + (i / (n - 1)) * (b - a)) ** rho);
  return out;
}

/**
 * The bound a run applies: the option, {@link DEFAULT_SIGMA_MAX} when omitted, ∞ for `false`; why:
 * one place turns the option into a number, for the grid and for what the run reports.
 */
export function sigmaBound(options: Pick<SigmaOptions, 'sigmaMax'>): number {
  const b = options.sigmaMax ?? DEFAULT_SIGMA_MAX;
  return b === false ? Number.POSITIVE_INFINITY : b;
}

/**
 * The timesteps for `steps` σ-space steps: the spacing's (fractional linspace, as k-diffusion and
 * diffusers' Euler do) or Karras σ between σ(t=0) and σ(t=T−1), mapped back to t with
 * `timestepForSigma`. `multistepSpacing` selects diffusers' DPM-Solver variant of linspace/leading
 * (steps + 1 points, the last dropped) for multistep solvers.
 *
 * σ_max bound (`sigmaMax`, EDM's discretisation, Karras et al. 2022 eq. 5 and Table 1, σ_max = 80):
 * when the schedule's σ(T−1) exceeds the bound σ_b, the spaced timesteps are scaled by
 * t_b/(T−1), t_b = t(σ_b), so the spacing keeps its shape on [0, t_b] and no two steps collapse;
 * Karras σ ramp from min(σ(T−1), σ_b). Under zero terminal SNR (σ(T−1) = ∞) a first step at
 * t = T−1 is kept — every sampler takes its exact σ → ∞ limit, a convex combination that cannot
 * amplify an error — and the bound applies to the finite steps after it (Karras σ ramp from
 * min(σ(T−2), σ_b)).
 */
export function sigmaTimesteps(schedule: NoiseSchedule, steps: number, options: Pick<SigmaOptions, 'sigmas' | 'timestepSpacing' | 'sigmaMax'>, multistepSpacing = false): number[] {
  const T = schedule.numTrainTimesteps;
  validateSteps(steps, schedule);
  const ab = schedule.alphasCumprod;
  const bound = sigmaBound(options);
  const sigmaTop = sigmaOf(ab[T - 1]);
  const zeroSnr = !Number.isFinite(sigmaTop);
  const bounded = sigmaTop > bound;
  if (options.sigmas === 'default') {
    // diffusers' DPMSolverMultistepScheduler: linspace/leading over steps + 1 points without the
    // last (t = 0), so the final second-order step does not extrapolate across a tiny σ(0).
    const ts =
      multistepSpacing && options.timestepSpacing !== 'trailing' && steps < T
        ? spacedTimesteps(T, steps + 1, options.timestepSpacing, true).slice(0, steps)
        : spacedTimesteps(T, steps, options.timestepSpacing, true);
    if (!bounded) return ts;
    const scale = timestepForSigma(schedule, bound) / (T - 1);
    return ts.map((t) => (zeroSnr && t === T - 1 ? t : t * scale));
  }
  const sigmaMin = sigmaOf(ab[0]);
  let ts: number[];
  if (!zeroSnr) {
    const hi = Math.min(sigmaTop, bound);
    ts = karrasSigmas(steps, sigmaMin, hi).map((s) => timestepForSigma(schedule, s));
    // The end points are σ_max and σ_min exactly; pin them so float round-off in (·)^{1/ρ} cannot move them.
    ts[0] = bounded ? timestepForSigma(schedule, hi) : T - 1;
  } else if (steps === 1) ts = [T - 1];
  else {
    const hi = Math.min(sigmaOf(ab[T - 2]), bound);
    ts = [T - 1, ...karrasSigmas(steps - 1, sigmaMin, hi).map((s) => timestepForSigma(schedule, s))];
  }
  if (steps > 1) ts[steps - 1] = 0;
  return ts;
}

/** Builds the {@link SigmaPlan} for a run: σ and ᾱ recomputed from each timestep. */
export function sigmaPlan(schedule: NoiseSchedule, steps: number, options: Pick<SigmaOptions, 'sigmas' | 'timestepSpacing' | 'sigmaMax'>, multistepSpacing = false): SigmaPlan {
  const timesteps = sigmaTimesteps(schedule, steps, options, multistepSpacing);
  const alphaBars = timesteps.map((t) => alphaBarAt(schedule, t));
  return { timesteps, alphaBars, sigmas: [...alphaBars.map(sigmaOf), 0] };
}

/**
 * One sampling run's σ-space context: the model call in the scaled view, the NFE count and step
 * reports. Created inside `sample()`, so nothing lives on the sampler object.
 */
export class SigmaRun {
  /** Model calls made so far in this run (what `sample()` reports as NFE). */
  nfe = 0;
  /** Number of steps of this run (the grid has steps + 1 σ values). */
  readonly steps: number;

  constructor(
    readonly params: SampleParams,
    readonly plan: SigmaPlan,
    readonly processing: X0Processing,
  ) {
    this.steps = plan.timesteps.length;
  }

  /** σ before step i (i = 0 … steps−1) and after it. */
  sigma(i: number): number {
    return this.plan.sigmas[i];
  }

  /** True when the run starts at σ = ∞ (ᾱ = 0): the state is then held as xₜ until the first step. */
  get infiniteStart(): boolean {
    return !Number.isFinite(this.plan.sigmas[0]);
  }

  /**
   * The initial state: x_{t₁} ~ N(0, I) from the rng (as DDPM starts), scaled to x_σ = xₜ/√ᾱ; kept
   * as xₜ when σ = ∞. Reports step 0.
   */
  initial(): tf.Tensor {
    const { rng, n, shape, onStep } = this.params;
    const z = normalTensor(rng, n, shape);
    report(onStep, { step: 0, total: this.steps, t: this.plan.timesteps[0] }, z);
    if (this.infiniteStart) return z;
    const scaled = tf.tidy(() => tf.div(z, Math.sqrt(this.plan.alphaBars[0])));
    z.dispose();
    return scaled;
  }

  /**
   * x̂₀ (clipped/thresholded) from the scaled state x_σ at grid point i: the model sees
   * xₜ = √ᾱ·x_σ at timestep tᵢ (diffusers' scale_model_input). Counts one NFE. Call in tf.tidy.
   */
  denoised(xs: tf.Tensor, i: number): tf.Tensor {
    this.nfe++;
    const ab = this.plan.alphaBars[i];
    const xt = i === 0 && this.infiniteStart ? xs : tf.mul(xs, Math.sqrt(ab));
    return predict(this.params.denoise as DenoiseFn, xt, this.plan.timesteps[i], ab, this.processing).x0;
  }

  /**
   * x̂₀ at an off-grid σ (a midpoint stage of a single-step solver): the model is called at
   * t = timestepForSigma(σ), whose interpolated σ is exactly `sigma`, with xₜ = x_σ/√(1 + σ²).
   * Counts one NFE. Call in tf.tidy.
   */
  denoisedAtSigma(xs: tf.Tensor, sigma: number): tf.Tensor {
    this.nfe++;
    const t = timestepForSigma(this.params.schedule, sigma);
    const ab = alphaBarAt(this.params.schedule, t);
    return predict(this.params.denoise as DenoiseFn, tf.mul(xs, Math.sqrt(ab)), t, ab, this.processing).x0;
  }

  /**
   * The zero-terminal-SNR first step: the model sees xₜ = z at ᾱ = 0 and returns x̂₀ (ε̂ = xₜ there).
   * Deterministic samplers' first step tends, as σ → ∞, to x_σ' = x̂₀ + σ'·ε̂; ancestral ones replace
   * part of σ'·ε̂ by fresh noise: x̂₀ + σ_down·ε̂ + σ_up·z. Call in tf.tidy.
   */
  firstStepFromInfinity(xt: tf.Tensor, sigmaDown: number, sigmaUp: number): { x: tf.Tensor; x0: tf.Tensor } {
    const x0 = this.denoised(xt, 0);
    let x = tf.add(x0, tf.mul(xt, sigmaDown));
    if (sigmaUp > 0) x = tf.add(x, tf.mul(this.noise(), sigmaUp));
    return { x, x0 };
  }

  /** Fresh N(0, I) noise of the state's shape, from the run's rng. */
  noise(): tf.Tensor {
    return normalTensor(this.params.rng, this.params.n, this.params.shape);
  }

  /** Reports the state after step i (1-based), shown as xₜ = √ᾱ·x_σ (x₀ itself after the last step). */
  report(step: number, xs: tf.Tensor): void {
    const last = step === this.steps;
    const t = last ? -1 : this.plan.timesteps[step];
    const scale = last ? 1 : Math.sqrt(this.plan.alphaBars[step]);
    report(this.params.onStep, { step, total: this.steps, t }, xs, scale === 1 ? undefined : (x) => tf.mul(x, scale));
  }
}

/** k-diffusion's to_d: the ODE derivative dx/dσ = (x − x̂₀)/σ (Karras et al. 2022 eq. 4 with s = 1). Call in tf.tidy. */
export function toD(xs: tf.Tensor, x0: tf.Tensor, sigma: number): tf.Tensor {
  return tf.div(tf.sub(xs, x0), sigma);
}

/**
 * What a σ-space run reports for summary.json: the bound in force (`sigmaMax`, false when off) and
 * the σ it actually started from (`sigmaStart`, "inf" under zero terminal SNR); why: the grid
 * depends on the schedule, so the config alone does not show where sampling began.
 */
export function sigmaRunInfo(options: Pick<SigmaOptions, 'sigmaMax'>, plan: SigmaPlan): Record<string, number | string | boolean> {
  const start = plan.sigmas[0];
  return { sigmaMax: options.sigmaMax ?? DEFAULT_SIGMA_MAX, sigmaStart: Number.isFinite(start) ? start : 'inf' };
}

/**
 * Shared skeleton of a σ-space sampler: validates options, resolves steps, and exposes
 * `timesteps()`; `run` does the integration inside one `sample()` call.
 */
export function makeSigmaSampler(
  name: string,
  options: SigmaOptions,
  samplerDefault: number,
  run: (ctx: SigmaRun) => Promise<tf.Tensor> | tf.Tensor,
  multistepSpacing = false,
): Sampler {
  checkProcessing(options);
  const defaultSteps = options.steps ?? samplerDefault;
  return {
    name,
    defaultSteps,
    timesteps: (schedule, steps) => sigmaTimesteps(schedule, steps, options, multistepSpacing),
    check: configuredStepsCheck(options.steps),
    async sample(params) {
      const steps = validateSteps(params.steps ?? defaultSteps, params.schedule);
      const plan = sigmaPlan(params.schedule, steps, options, multistepSpacing);
      const ctx = new SigmaRun(params, plan, options);
      const x = await run(ctx);
      return { x, nfe: ctx.nfe, info: sigmaRunInfo(options, plan) };
    },
  };
}
