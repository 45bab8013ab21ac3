import { describe, expect, it } from 'vitest';
import { minSnrWeight } from './loss-weighting.js';
import { learningRateAt } from './lr.js';

describe('learningRateAt', () => {
  it('warms up linearly, then holds or follows a half cosine to the floor', () => {
    const c = { learningRate: 1, lrSchedule: 'constant' as const, warmupSteps: 10, minLearningRate: 0 };
    expect(learningRateAt(c, 0, 100)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(c, 9, 100)).toBeCloseTo(1, 12);
    expect(learningRateAt(c, 50, 100)).toBe(1);
    const cos = { learningRate: 1, lrSchedule: 'cosine' as const, warmupSteps: 0, minLearningRate: 0.1 };
    expect(learningRateAt(cos, 0, 101)).toBeCloseTo(1, 12);
    expect(learningRateAt(cos, 50, 101)).toBeCloseTo(0.55, 12);
    expect(learningRateAt(cos, 100, 101)).toBeCloseTo(0.1, 12);
  });
});

describe('minSnrWeight (Hang et al. 2023, Table 1)', () => {
  it('is min(SNR, γ)/SNR for ε, min(SNR, γ) for x₀ and min(SNR, γ)/(SNR+1) for v', () => {
    const ab = 0.9; // SNR = 9
    expect(minSnrWeight(ab, 5, 'epsilon')).toBeCloseTo(5 / 9, 12);
    expect(minSnrWeight(ab, 5, 'sample')).toBeCloseTo(5, 12);
    expect(minSnrWeight(ab, 5, 'v')).toBeCloseTo(0.5, 12);
    expect(minSnrWeight(0.5, 5, 'epsilon')).toBeCloseTo(1, 12); // SNR 1 < γ
  });
});
