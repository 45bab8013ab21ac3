/**
 * Zero-terminal-SNR rescaling (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps
 * are Flawed", Algorithm 1). Common schedules leave ᾱ_T > 0, so training never sees pure noise
 * while sampling starts from it; this shifts and scales √ᾱ so that √ᾱ_T = 0 and √ᾱ_0 is unchanged.
 */
import { ConfigError } from '@diffusionlab/core';

/**
 * Rescales β so the schedule ends at SNR 0. With a_t = √ᾱ_t:
 *   a'_t = (a_t − a_T) · a_0 / (a_0 − a_T)   (Algorithm 1, lines 6–10),
 * then ᾱ'_t = a'_t², α'_t = ᾱ'_t / ᾱ'_{t−1} (α'_0 = ᾱ'_0), β'_t = 1 − α'_t. The map is affine and
 * increasing in a_t, so ᾱ' stays strictly decreasing and β' ∈ (0, 1) except β'_T = 1 exactly
 * (ᾱ'_T = 0), which core's `scheduleFromBetas` allows at the final step only.
 * Returns a new array; the input is not modified.
 */
export function rescaleZeroTerminalSnr(betas: ArrayLike<number>): Float64Array {
  const T = betas.length;
  if (T < 2) {
    throw new ConfigError({
      path: 'schedule.rescaleZeroTerminalSnr',
      message: 'needs timesteps ≥ 2: with one step ᾱ_0 cannot stay unchanged while ᾱ_T becomes 0',
    });
  }
  const sqrtAb = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    prod *= 1 - betas[t];
    sqrtAb[t] = Math.sqrt(prod);
  }
  const a0 = sqrtAb[0];
  const aT = sqrtAb[T - 1];
  const scale = a0 / (a0 - aT);
  const out = new Float64Array(T);
  let prev = 1;
  for (let t = 0; t < T; t++) {
    // Shift then scale, as the paper does; the last entry is (aT − aT)·scale = 0 exactly.
    const a = (sqrtAb[t] - aT) * scale;
    const ab = a * a;
    out[t] = 1 - ab / prev;
    prev = ab;
  }
  return out;
}
