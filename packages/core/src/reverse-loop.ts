/**
 * A sampler's reverse loop described by its structure, not by the sampler's name or options; why:
 * an accelerator (the fused kernels) can then say whether it runs exactly that loop, and the runner
 * only connects the two (`Sampler.describeLoop` in spec.ts), so a new sampler or a renamed option
 * never needs a change outside its own package.
 */

/**
 * DDPM ancestral sampling, Ho et al. 2020 Algorithm 2 line 4, at each visited t:
 * x ← (1/√αₜ)·(x − βₜ/√(1−ᾱₜ)·ε̂(x, t)) + σₜ·z with z ~ N(0, I) for t > 0 (no noise at t = 0),
 * where ε̂ is the model's prediction converted to ε as the experiment's prediction type says, and
 * nothing is done to x̂₀ (no clipping, no thresholding). Randomness, in this order from the
 * sampler's rng: x_T ~ N(0, I) of [n, …shape], then one [n, …shape] draw per visited t > 0, so a
 * loop run elsewhere with the same rng gives the same samples up to float rounding.
 */
export interface AncestralLoopDescription {
  readonly kind: 'ddpm-ancestral';
  /** The timesteps visited, in order (decreasing); Algorithm 2 proper visits every t = T−1 … 0. */
  readonly timesteps: readonly number[];
  /** σ²ₜ: `fixed-small` = β̃ₜ = βₜ(1−ᾱₜ₋₁)/(1−ᾱₜ), `fixed-large` = βₜ (Ho et al. 2020 §3.2). */
  readonly variance: 'fixed-small' | 'fixed-large';
}

/**
 * Every reverse-loop structure a sampler may declare; a union so that later loops (e.g. DDIM
 * eq. 12) are added as new members without touching the existing ones.
 */
export type ReverseLoopDescription = AncestralLoopDescription;
