/**
 * What each sampler of this package knows it handles poorly, as {@link Sampler.advise} advice with
 * fixes the tool accepts. The runner only collects and prints advice, so the conditions (which
 * sampler, which options, which σ) live here, beside the samplers, and nowhere else. Every condition
 * is computed from the grid the sampler will actually walk (`sampler.timesteps`, which reflects the
 * σ_max bound and Karras σ), not from the schedule's σ_max alone, so it fires only where the run
 * really starts from a dangerous σ.
 */
import { type Advice, type AnyPluginDefinition, alphaBarAt, type PluginContext, type Sampler, type SamplerAdviceContext, sigmaOf } from '@diffusionlab/core';
import { DEFAULT_SIGMA_MAX } from './common.js';

/** The σ above which an ε-model's x̂₀ = x − σ·ε̂ magnifies the network's error past use (cosine, T = 1000: σ_max ≈ 2·10⁴). */
export const EPSILON_SIGMA_LIMIT = 100;

/** The starting σ above which a trapezoid step or a Karras grid goes wrong (even with an exact denoiser). */
export const HUGE_SIGMA_MAX = 1e3;

/**
 * The gain (σ − σ′)/(2σ′) of a trapezoid corrector's first step above which the denoiser's change is
 * multiplied past use. Why 10: on `oracle-samplers` (cosine T = 1000, sigmaMax: false, default grid)
 * Heun's first step has a gain of 630–3,300 and W1 4.3–395 (floor 0.043), while the Karras grid from
 * the same σ has 2.8 at 25 steps, where the loss comes from the grid, not the step.
 */
export const TRAPEZOID_GAIN_LIMIT = 10;

/** What a rule sees: the advice context plus the sampler it advises on and that sampler's parsed options. */
export interface AdviceInput extends SamplerAdviceContext {
  sampler: Sampler;
  options: Record<string, unknown>;
}

/** One known-poor condition: advice when it holds, null otherwise. */
export type AdviceRule = (input: AdviceInput) => Advice | null;

const fmt = (v: number) => v.toPrecision(3);

/**
 * σ at each grid point this run visits (decreasing; ∞ first under zero terminal SNR), from the
 * sampler's own `timesteps`; why: the bound, Karras σ and the spacing all decide where it starts.
 */
export function gridSigmas(input: AdviceInput): number[] {
  const steps = Math.min(Math.max(1, input.steps), input.schedule.numTrainTimesteps);
  return input.sampler.timesteps(input.schedule, steps).map((t) => sigmaOf(alphaBarAt(input.schedule, t)));
}

/**
 * The largest finite σ the run steps from: the first grid σ, or the second when the first is ∞ (zero
 * terminal SNR, whose first step every sampler takes in its exact limit); why: the step from there is
 * where errors blow up. 0 when the grid has no finite σ.
 */
export function startSigma(input: AdviceInput): number {
  return gridSigmas(input).find((s) => Number.isFinite(s)) ?? 0;
}

/**
 * The fix that restores the σ_max bound, for samplers that have one (a `sigmaMax` option); why: it
 * is the one change that moves the start to EDM's σ_max without touching anything else.
 */
function boundFix(input: AdviceInput): string[][] {
  return 'sigmaMax' in input.options ? [[`sampler.sigmaMax=${DEFAULT_SIGMA_MAX}`]] : [];
}

/**
 * A trained ε-model meeting a sampler that turns ε̂ into x̂₀ at a huge σ: every step from there
 * multiplies the network's error by about σ (trained moons, cosine T = 1000: ddim SW1 8.56 at 10
 * steps, 1.49 at 50, floor 0.023). DDPM's ancestral update weighs ε̂ boundedly and has no such rule;
 * the exact (closed-form) denoiser has no error to magnify. σ-space samplers start at σ_max = 80 by
 * default, so for them it fires only with the bound off or raised; then the fix is the bound, and for
 * a sampler without one (ddim) the same first-order method in σ-space, euler.
 */
export const epsilonAtHugeSigma: AdviceRule = (input) => {
  if (!input.trainable || input.predictionType !== 'epsilon') return null;
  const sigma = startSigma(input);
  if (!(sigma > EPSILON_SIGMA_LIMIT)) return null;
  const bound = boundFix(input);
  return {
    message:
      `sampler ${input.sampler.name} with an epsilon-prediction model starts at σ = ${fmt(sigma)}, where x̂₀ = x − σ·ε̂ magnifies the ` +
      `network's error about ${sigma.toPrecision(2)}×; expect poor samples. Better: v-prediction, ` +
      (bound.length > 0 ? `the σ_max bound (sigmaMax ${DEFAULT_SIGMA_MAX}), ` : `euler (the same method in σ-space, from σ_max = ${DEFAULT_SIGMA_MAX}), `) +
      'or the ddpm sampler (its update weighs ε̂ boundedly).',
    fixes: [['training.predictionType=v'], ...(bound.length > 0 ? bound : [['sampler.use=euler']]), ['sampler.use=ddpm']],
  };
};

/**
 * A second-order trapezoid corrector (Heun's, Karras et al. 2022 Alg. 1) whose first step leaves a
 * σ > 10³ with a large ratio: written out, it adds ((σ − σ′)/(2σ′))·(x̂₀′ − x̂₀) to a convex
 * combination, so the denoiser's change is multiplied by that gain (σ = 20,291 → 16.0: ≈ 630; W1 4.3
 * against a floor of 0.043 on `oracle-samplers` with sigmaMax: false). Declared by the samplers whose
 * step has this form; DPM-2's midpoint weighs the change by √(σ/σ′) instead (≈ 36 there) and measured
 * W1 0.022 from the same grid, so it does not declare it.
 */
export const secondOrderFromHugeSigma: AdviceRule = (input) => {
  const grid = gridSigmas(input).filter((s) => Number.isFinite(s));
  const [sigma, next] = grid;
  if (!(sigma > HUGE_SIGMA_MAX) || !(next > 0)) return null;
  const gain = (sigma - next) / (2 * next);
  if (!(gain > TRAPEZOID_GAIN_LIMIT)) return null;
  return {
    message:
      `sampler ${input.sampler.name} takes its first second-order step from σ = ${fmt(sigma)} (> ${HUGE_SIGMA_MAX}) to ${fmt(next)}, ` +
      `where its corrector multiplies the denoiser's change about ${gain.toPrecision(2)}×, far off even with an exact denoiser. ` +
      `Better: the σ_max bound (sigmaMax ${DEFAULT_SIGMA_MAX}), or dpmpp-2m (its steps weigh x̂₀ with weights in [0, 1]).`,
    fixes: [...boundFix(input), ['sampler.use=dpmpp-2m']],
  };
};

/**
 * A Karras σ grid (eq. 5, ρ = 7) that starts above 10³ spends most of its steps at σ ≫ 1, too coarse
 * where the data appears (oracle-samplers, sigmaMax: false, 20 steps: W1 0.15–1.8 for every σ-space
 * sampler, floor 0.043). With the default bound the grid ramps from 80 and is fine.
 */
export const karrasFromHugeSigma: AdviceRule = (input) => {
  if (input.options.sigmas !== 'karras') return null;
  const sigma = startSigma(input);
  if (!(sigma > HUGE_SIGMA_MAX)) return null;
  return {
    message:
      `sampler ${input.sampler.name} with sigmas: karras ramps from σ = ${fmt(sigma)} (> ${HUGE_SIGMA_MAX}), which Karras et al.'s grid was not made for. ` +
      `Better: the σ_max bound (sigmaMax ${DEFAULT_SIGMA_MAX}, EDM's σ_max).`,
    fixes: boundFix(input),
  };
};

/** Each sampler's own known-poor conditions, by plugin name (this package's names only). */
export const SAMPLER_ADVICE: Readonly<Record<string, readonly AdviceRule[]>> = {
  ddpm: [],
  ddim: [epsilonAtHugeSigma],
  euler: [karrasFromHugeSigma, epsilonAtHugeSigma],
  'euler-ancestral': [karrasFromHugeSigma, epsilonAtHugeSigma],
  heun: [secondOrderFromHugeSigma, karrasFromHugeSigma, epsilonAtHugeSigma],
  'dpm-2': [karrasFromHugeSigma, epsilonAtHugeSigma],
  lms: [karrasFromHugeSigma, epsilonAtHugeSigma],
  'dpmpp-2m': [karrasFromHugeSigma, epsilonAtHugeSigma],
  'dpmpp-2m-sde': [karrasFromHugeSigma, epsilonAtHugeSigma],
  'dpmpp-2s-ancestral': [karrasFromHugeSigma, epsilonAtHugeSigma],
  'dpmpp-3m-sde': [karrasFromHugeSigma, epsilonAtHugeSigma],
  unipc: [karrasFromHugeSigma, epsilonAtHugeSigma],
};

/** Gives a sampler an `advise` hook that runs `rules` with its options; why: advice needs the options the plugin was created with. */
export function attachAdvice(sampler: Sampler, options: Record<string, unknown>, rules: readonly AdviceRule[]): Sampler {
  if (rules.length === 0) return sampler;
  const own = sampler.advise?.bind(sampler);
  return Object.assign(sampler, {
    advise: (ctx: SamplerAdviceContext): Advice[] => [...(own ? own(ctx) : []), ...rules.map((rule) => rule({ ...ctx, sampler, options })).filter((a): a is Advice => a !== null)],
  });
}

/**
 * The plugin definition with {@link SAMPLER_ADVICE}'s rules wired into what `create` returns; why: the
 * sampler files stay free of advice, and one table says which conditions each sampler declares.
 */
export function withAdvice<D extends AnyPluginDefinition>(def: D): D {
  const rules = SAMPLER_ADVICE[def.name] ?? [];
  if (rules.length === 0) return def;
  const create = (options: Record<string, unknown>, context: PluginContext) => {
    const made = def.create(options, context) as Sampler | Promise<Sampler>;
    return made instanceof Promise ? made.then((s) => attachAdvice(s, options, rules)) : attachAdvice(made, options, rules);
  };
  return { ...def, create } as D;
}
