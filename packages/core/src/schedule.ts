/**
 * Noise schedules as immutable numbers (Ho et al. 2020, §2): βₜ, αₜ = 1 − βₜ, ᾱₜ = Π αₛ.
 * Backend-free and serialisable, so samplers read them without touching tensors.
 */
import { type Advice, formatAdvice } from './advice.js';
import { ConfigError } from './errors.js';

/** The discrete forward process every schedule plugin produces and every sampler reads. */
export interface NoiseSchedule {
  /** Plugin name that made it (`linear`, `cosine`, …). */
  readonly name: string;
  /** T: the number of training timesteps; t runs over 0 … T−1. */
  readonly numTrainTimesteps: number;
  /** βₜ for t = 0 … T−1. */
  readonly betas: Float64Array;
  /** αₜ = 1 − βₜ. */
  readonly alphas: Float64Array;
  /** ᾱₜ = Π_{s≤t} αₛ (DDPM eq. 4's coefficient). */
  readonly alphasCumprod: Float64Array;
  /** The options it was made with, for the record and for reproducing it. */
  readonly params: Readonly<Record<string, unknown>>;
}

/**
 * Builds a schedule from β, checking each βₜ lies in (0, 1] (1 is allowed only as a zero-terminal-SNR
 * end point) so a bad parameter fails here rather than as NaN in training.
 */
export function scheduleFromBetas(name: string, betas: ArrayLike<number>, params: Record<string, unknown> = {}, path = 'schedule'): NoiseSchedule {
  const T = betas.length;
  if (T < 1) throw new ConfigError({ path: `${path}.timesteps`, message: 'a schedule needs at least 1 timestep' });
  const b = Float64Array.from(betas);
  for (let t = 0; t < T; t++) {
    const v = b[t];
    const terminalOne = t === T - 1 && v === 1;
    if (!(v > 0 && v < 1) && !terminalOne) {
      throw new ConfigError({
        path,
        message: `β must lie in (0, 1) at every timestep, but β[${t}] = ${v}; check the schedule's parameters (e.g. betaStart/betaEnd)`,
      });
    }
  }
  const alphas = b.map((v) => 1 - v);
  const alphasCumprod = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    prod *= alphas[t];
    alphasCumprod[t] = prod;
  }
  return Object.freeze({ name, numTrainTimesteps: T, betas: b, alphas, alphasCumprod, params: Object.freeze({ ...params }) });
}

/** ᾱ_{t−1} with ᾱ₋₁ = 1, as DDPM's posterior uses (Ho et al. 2020, eq. 7). */
export function alphaBarPrev(s: NoiseSchedule, t: number): number {
  return t > 0 ? s.alphasCumprod[t - 1] : 1;
}

/** DDPM posterior variance β̃ₜ = βₜ(1−ᾱₜ₋₁)/(1−ᾱₜ) (Ho et al. 2020, eq. 7): the reference's σ²ₜ. */
export function posteriorVariance(s: NoiseSchedule, t: number): number {
  const ab = s.alphasCumprod[t];
  return (s.betas[t] * (1 - alphaBarPrev(s, t))) / (1 - ab);
}

/** σₜ = √((1−ᾱₜ)/ᾱₜ): the noise level in the variance-exploding view (Karras et al. 2022, §C.2). */
export function sigmaOf(alphaBar: number): number {
  return Math.sqrt((1 - alphaBar) / alphaBar);
}

/** ᾱ for a VE noise level σ: the inverse of {@link sigmaOf}. */
export function alphaBarOfSigma(sigma: number): number {
  return 1 / (1 + sigma * sigma);
}

/** log-SNR λₜ = log(ᾱₜ/(1−ᾱₜ)) (Kingma et al. 2021), the natural axis for comparing schedules. */
export function logSnr(alphaBar: number): number {
  return Math.log(alphaBar) - Math.log1p(-alphaBar);
}

/** σ for every training timestep (VE view), increasing in t. */
export function scheduleSigmas(s: NoiseSchedule): Float64Array {
  return s.alphasCumprod.map(sigmaOf);
}

/**
 * ᾱ at a continuous timestep t ∈ [0, T−1], interpolating log σ linearly between integer steps.
 * Samplers that place steps between training timesteps (Karras σ) and the oracle denoiser use this
 * same map, so the noise level a sampler assumes is the one the model is told.
 */
export function alphaBarAt(s: NoiseSchedule, t: number): number {
  const T = s.numTrainTimesteps;
  if (t <= 0) return s.alphasCumprod[0];
  if (t >= T - 1) return s.alphasCumprod[T - 1];
  const i = Math.floor(t);
  const f = t - i;
  if (f === 0) return s.alphasCumprod[i];
  const a = s.alphasCumprod[i];
  const b = s.alphasCumprod[i + 1];
  if (b <= 0) return a * (1 - f);
  const logSigma = (1 - f) * Math.log(sigmaOf(a)) + f * Math.log(sigmaOf(b));
  return alphaBarOfSigma(Math.exp(logSigma));
}

/** The continuous timestep whose interpolated σ equals `sigma`: the exact inverse of {@link alphaBarAt}. */
export function timestepForSigma(s: NoiseSchedule, sigma: number): number {
  const sig = scheduleSigmas(s);
  const T = s.numTrainTimesteps;
  if (sigma <= sig[0]) return 0;
  if (sigma >= sig[T - 1]) return T - 1;
  let lo = 0;
  let hi = T - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sig[mid] <= sigma) lo = mid;
    else hi = mid;
  }
  const l0 = Math.log(sig[lo]);
  const l1 = Math.log(sig[hi]);
  if (!Number.isFinite(l1) || l1 === l0) return lo;
  return lo + (Math.log(sigma) - l0) / (l1 - l0);
}

/** What a run records about its schedule, and the warning when x_T is far from pure noise. */
export interface ScheduleDiagnostics {
  numTrainTimesteps: number;
  /** ᾱ_T: the data's share of variance left at the last step; ≈ 0 for a well-posed schedule. */
  alphaBarT: number;
  /** √ᾱ_T: how much of x₀ survives in x_T. */
  signalAtT: number;
  /** SNR range ᾱ/(1−ᾱ) over t (max at t = 0, min at t = T−1). */
  snrMax: number;
  snrMin: number;
  logSnrMax: number;
  logSnrMin: number;
  warnings: string[];
  /** The same warnings with their fixes as data (overrides the tool accepts), in the same order. */
  advice: Advice[];
}

/** ᾱ_T above this leaves ≥ 10 % of x₀'s scale in x_T; sampling from N(0, I) then starts off-distribution. */
export const ALPHA_BAR_T_WARN = 0.01;

/**
 * Computes {@link ScheduleDiagnostics}; the warning says what it means and gives fixes that validate:
 * zero-terminal-SNR rescaling comes with v-prediction, because an ε-model cannot be sampled at ᾱ_T = 0.
 */
export function scheduleDiagnostics(s: NoiseSchedule): ScheduleDiagnostics {
  const T = s.numTrainTimesteps;
  const first = s.alphasCumprod[0];
  const last = s.alphasCumprod[T - 1];
  const snr = (a: number) => a / (1 - a);
  const advice: Advice[] = [];
  if (last > ALPHA_BAR_T_WARN) {
    advice.push({
      message:
        `schedule: ᾱ_T = ${last.toFixed(4)} is far from 0, so x_T still holds ${(100 * Math.sqrt(last)).toFixed(0)} % of the data's scale ` +
        'and sampling from N(0, I) starts from the wrong distribution: use more timesteps, a cosine schedule, or zero-terminal-SNR rescaling with v-prediction.',
      fixes: [...(T < 1000 ? [['schedule.timesteps=1000']] : []), ['schedule.use=cosine'], ['schedule.rescaleZeroTerminalSnr=true', 'training.predictionType=v']],
    });
  }
  const warnings = advice.map(formatAdvice);
  return {
    numTrainTimesteps: T,
    alphaBarT: last,
    signalAtT: Math.sqrt(last),
    snrMax: snr(first),
    snrMin: snr(last),
    logSnrMax: logSnr(first),
    logSnrMin: logSnr(last),
    warnings,
    advice,
  };
}
