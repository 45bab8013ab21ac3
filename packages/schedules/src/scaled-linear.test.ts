import { createSchedule, expectClose, scheduleConformance } from '@diffusionlab/testkit';
import { describe, expect, it } from 'vitest';
import { scaledLinearSchedule } from './scaled-linear.js';

scheduleConformance(scaledLinearSchedule, [{}, { timesteps: 50, betaStart: 0.0001, betaEnd: 0.02 }, { rescaleZeroTerminalSnr: true }], {
  invalid: [
    { options: { betaEnd: 1.5 }, path: 'schedule.betaEnd' },
    { options: { betaStart: 0.05 }, path: 'schedule.betaEnd' },
    { options: { timesteps: -1 }, path: 'schedule.timesteps' },
  ],
});

describe('scaled-linear', () => {
  it('√β is linear from √0.00085 to √0.012 (Stable Diffusion defaults)', async () => {
    const s = await createSchedule(scaledLinearSchedule, {});
    const r = Array.from(s.betas, Math.sqrt);
    expect(r[0]).toBeCloseTo(Math.sqrt(0.00085), 15);
    expect(r[999]).toBeCloseTo(Math.sqrt(0.012), 15);
    const step = (Math.sqrt(0.012) - Math.sqrt(0.00085)) / 999;
    for (let t = 1; t < 1000; t++) expect(Math.abs(r[t] - r[t - 1] - step)).toBeLessThan(1e-14);
    expect(s.betas[0] / 0.00085).toBeCloseTo(1, 12);
    expect(s.betas[999] / 0.012).toBeCloseTo(1, 12);
  });

  it('√ᾱ_T = 0.068265, as Lin et al. 2023 (§3.1) report for Stable Diffusion', async () => {
    const s = await createSchedule(scaledLinearSchedule, {});
    expect(Math.sqrt(s.alphasCumprod[999])).toBeCloseTo(0.068265, 5);
  });

  it('T = 3 by hand: β = ((√a + k(√b − √a)/2)²)_k', async () => {
    const s = await createSchedule(scaledLinearSchedule, { timesteps: 3, betaStart: 0.01, betaEnd: 0.09 });
    // √β = 0.1, 0.2, 0.3
    expectClose(s.betas, [0.01, 0.04, 0.09], 1e-16);
  });
});
