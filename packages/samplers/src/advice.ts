/**
 * What each sampler of this package knows it handles poorly, as {@link Sampler.advise} advice with
 * fixes the tool accepts. The runner only collects and prints advice, so the conditions (which
 * sampler, which options, which σ) live here, beside the samplers, and nowhere else.
 */
import {
  type Advice,
  type AnyPluginDefinition,
  alphaBarAt,
  type PluginContext,
  type Sampler,
  type SamplerAdviceContext,
  sigmaOf,
} from '@diffusionlab/core';

/** The σ above which an ε-model's x̂₀ = x − σ·ε̂ magnifies the network's error past use (cosine, T = 1000: σ_max ≈ 2·10⁴). */
export const EPSILON_SIGMA_LIMIT = 100;

/** The σ_max above which a second-order step or a Karras grid from σ_max goes wrong (even with an exact denoiser). */
export const HUGE_SIGMA_MAX = 1e3;

/** What a rule sees: the advice context plus the sampler it advises on and that sampler's parsed options. */
export interface AdviceInput extends SamplerAdviceContext {
  sampler: Sampler;
  options: Record<string, unknown>;
}

/** One known-poor condition: advice when it holds, null otherwise. */
export type AdviceRule = (input: AdviceInput) => Advice | null;

const fmt = (v: number) => v.toPrecision(3);

/** σ at the first timestep this sampler visits (∞ under zero terminal SNR); why: the step from there is where errors blow up. */
export function startSigma(input: AdviceInput): number {
  const t0 = input.sampler.timesteps(input.schedule, Math.min(Math.max(1, input.steps), input.schedule.numTrainTimesteps))[0];
  return sigmaOf(alphaBarAt(input.schedule, t0));
}

/** σ_max of the schedule itself: σ at t = T − 1 (where Karras grids start). */
export function scheduleSigmaMax(input: AdviceInput): number {
  return sigmaOf(input.schedule.alphasCumprod[input.schedule.numTrainTimesteps - 1]);
}

/**
 * A trained ε-model meeting a sampler that turns ε̂ into x̂₀ at a huge σ: every step from there
 * multiplies the network's error by about σ. DDPM's ancestral update weighs ε̂ boundedly and has no
 * such rule; the exact (closed-form) denoiser has no error to magnify.
 */
export const epsilonAtHugeSigma: AdviceRule = (input) => {
  if (!input.trainable || input.predictionType !== 'epsilon') return null;
  const sigma = startSigma(input);
  if (!(sigma > EPSILON_SIGMA_LIMIT && Number.isFinite(sigma))) return null;
  return {
    message:
      `sampler ${input.sampler.name} with an epsilon-prediction model starts at σ = ${fmt(sigma)}, where x̂₀ = x − σ·ε̂ magnifies the ` +
      `network's error about ${sigma.toPrecision(2)}×; expect poor samples. Better: v-prediction, or the ddpm sampler (its update weighs ε̂ boundedly).`,
    fixes: [['training.predictionType=v'], ['sampler.use=ddpm']],
  };
};

/**
 * Heun's trapezoid from a huge σ_max: the corrector averages a slope taken at σ ≈ 10⁴ with one taken
 * near the data, which throws samples far off (oracle-samplers: W1 4.2 against a floor of 0.03).
 * `leading` spacing starts below T − 1, where σ is moderate (W1 0.026 there).
 */
export const heunFromHugeSigma: AdviceRule = (input) => {
  const sigma = startSigma(input);
  if (!(sigma > HUGE_SIGMA_MAX && Number.isFinite(sigma))) return null;
  const karras = input.options.sigmas === 'karras';
  return {
    message:
      `sampler heun starts its σ grid at σ_max = ${fmt(sigma)} (> ${HUGE_SIGMA_MAX}), where its second-order step is far off even with an exact denoiser. ` +
      `Better: ${karras ? 'the default σ grid with leading spacing' : 'leading spacing (starts below T − 1)'}, or dpmpp-2m.`,
    fixes: [karras ? ['sampler.sigmas=default', 'sampler.timestepSpacing=leading'] : ['sampler.timestepSpacing=leading'], ['sampler.use=dpmpp-2m']],
  };
};

/** A Karras σ grid (eq. 5, ρ = 7) from a huge σ_max spends its first steps at σ ≫ 1, too coarse where the ODE starts. */
export const karrasFromHugeSigma: AdviceRule = (input) => {
  if (input.options.sigmas !== 'karras') return null;
  const sigma = scheduleSigmaMax(input);
  if (!(sigma > HUGE_SIGMA_MAX && Number.isFinite(sigma))) return null;
  return {
    message: `sampler ${input.sampler.name} with sigmas: karras ramps from σ_max = ${fmt(sigma)} (> ${HUGE_SIGMA_MAX}), which Karras et al.'s grid was not made for. Better: the default σ grid.`,
    fixes: [['sampler.sigmas=default']],
  };
};

/** Each sampler's own known-poor conditions, by plugin name (this package's names only). */
export const SAMPLER_ADVICE: Readonly<Record<string, readonly AdviceRule[]>> = {
  ddpm: [],
  ddim: [epsilonAtHugeSigma],
  euler: [karrasFromHugeSigma, epsilonAtHugeSigma],
  'euler-ancestral': [karrasFromHugeSigma, epsilonAtHugeSigma],
  heun: [heunFromHugeSigma, epsilonAtHugeSigma],
  lms: [karrasFromHugeSigma, epsilonAtHugeSigma],
  'dpmpp-2m': [karrasFromHugeSigma, epsilonAtHugeSigma],
  'dpmpp-2m-sde': [karrasFromHugeSigma, epsilonAtHugeSigma],
};

/** Gives a sampler an `advise` hook that runs `rules` with its options; why: advice needs the options the plugin was created with. */
export function attachAdvice(sampler: Sampler, options: Record<string, unknown>, rules: readonly AdviceRule[]): Sampler {
  if (rules.length === 0) return sampler;
  const own = sampler.advise?.bind(sampler);
  return Object.assign(sampler, {
    advise: (ctx: SamplerAdviceContext): Advice[] => [
      ...(own ? own(ctx) : []),
      ...rules.map((rule) => rule({ ...ctx, sampler, options })).filter((a): a is Advice => a !== null),
    ],
  });
}

/**
 * The plugin definition with {@link SAMPLER_ADVICE}'s rules wired into what `create` returns; why: the
 * sampler files stay free of advice, and one table says which conditions each sampler declares.
 */
export function withAdvice(def: AnyPluginDefinition): AnyPluginDefinition {
  const rules = SAMPLER_ADVICE[def.name] ?? [];
  if (rules.length === 0) return def;
  return {
    ...def,
    create: (options: Record<string, unknown>, context: PluginContext) => {
      const made = def.create(options, context) as Sampler | Promise<Sampler>;
      return made instanceof Promise ? made.then((s) => attachAdvice(s, options, rules)) : attachAdvice(made, options, rules);
    },
  };
}
