import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { alphaBarAt, posteriorVariance, scheduleDiagnostics, scheduleFromBetas, scheduleSigmas, timestepForSigma } from './schedule.js';

const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

describe('scheduleFromBetas', () => {
  const s = scheduleFromBetas('linear', linspace(1e-4, 0.02, 100));

  it('computes alpha and the cumulative product exactly', () => {
    let prod = 1;
    for (let t = 0; t < 100; t++) {
      expect(s.alphas[t]).toBe(1 - s.betas[t]);
      prod *= 1 - s.betas[t];
      expect(s.alphasCumprod[t]).toBeCloseTo(prod, 15);
    }
  });

  it("gives the reference's ᾱ_T = 0.3636", () => {
    expect(s.alphasCumprod[99]).toBeCloseTo(0.3636, 4);
  });

  it('gives the reference posterior variance, with ᾱ₋₁ = 1 so σ²₀ = 0', () => {
    expect(posteriorVariance(s, 0)).toBe(0);
    const t = 50;
    const expected = (s.betas[t] * (1 - s.alphasCumprod[t - 1])) / (1 - s.alphasCumprod[t]);
    expect(posteriorVariance(s, t)).toBeCloseTo(expected, 15);
  });

  it('warns when ᾱ_T is far from 0 and says how to fix it', () => {
    const d = scheduleDiagnostics(s);
    expect(d.alphaBarT).toBeCloseTo(0.3636, 4);
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toMatch(/cosine/);
    expect(d.warnings[0]).toMatch(/rescaleZeroTerminalSnr/);
    const good = scheduleFromBetas('linear', linspace(1e-4, 0.02, 1000));
    expect(scheduleDiagnostics(good).warnings).toHaveLength(0);
  });

  it('rejects betas outside (0, 1) naming the timestep', () => {
    expect(() => scheduleFromBetas('bad', [0.1, 1.5])).toThrow(ConfigError);
    expect(() => scheduleFromBetas('bad', [0.1, 1.5])).toThrow(/β\[1\] = 1.5/);
    expect(() => scheduleFromBetas('bad', [0, 0.1])).toThrow(ConfigError);
    expect(() => scheduleFromBetas('bad', [])).toThrow(/at least 1/);
    // β = 1 only as the final step (zero terminal SNR).
    expect(scheduleFromBetas('ztsnr', [0.1, 1]).alphasCumprod[1]).toBe(0);
  });

  it('interpolates ᾱ at fractional t and inverts it exactly via σ', () => {
    for (const t of [0, 3, 10.25, 42.5, 98.9, 99]) {
      const ab = alphaBarAt(s, t);
      const sigma = Math.sqrt((1 - ab) / ab);
      expect(timestepForSigma(s, sigma)).toBeCloseTo(t, 9);
    }
    const sig = scheduleSigmas(s);
    expect(alphaBarAt(s, 7)).toBe(s.alphasCumprod[7]);
    for (let t = 1; t < 100; t++) expect(sig[t]).toBeGreaterThan(sig[t - 1]);
  });
});
