/**
 * Per-sample loss weights. Min-SNR-γ (Hang et al. 2023, eq. 8 and Table 1) caps the weight of
 * low-noise timesteps, which otherwise dominate training and slow convergence.
 */
import type { PredictionType } from './prediction.js';

/** `none` weighs every sample 1 (DDPM's simple loss); `min-snr` applies Min-SNR-γ. */
export type LossWeighting = 'none' | 'min-snr';

/**
 * Weight of one sample at noise level ᾱ, expressed for the prediction type's own loss:
 * ε: min(SNR, γ)/SNR; x₀: min(SNR, γ); v: min(SNR, γ)/(SNR + 1).
 */
export function minSnrWeight(alphaBar: number, gamma: number, type: PredictionType): number {
  const snr = alphaBar / Math.max(1 - alphaBar, 1e-20);
  const clipped = Math.min(snr, gamma);
  switch (type) {
    case 'epsilon':
      return snr > 0 ? clipped / snr : 1;
    case 'sample':
      return clipped;
    case 'v':
      return clipped / (snr + 1);
  }
}
