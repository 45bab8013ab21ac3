import { createSchedule, scheduleConformance } from '@diffusionlab/testkit';
import { describe, expect, it } from 'vitest';
import { cosineSchedule } from './cosine.js';

scheduleConformance(
  cosineSchedule,
  [{}, { timesteps: 10 }, { timesteps: 1 }, { s: 0, maxBeta: 0.5, timesteps: 200 }, { maxBeta: 1, timesteps: 100 }, { rescaleZeroTerminalSnr: true }],
  {
    invalid: [
      { options: { maxBeta: 1.5 }, path: 'schedule.maxBeta' },
      { options: { maxBeta: 0 }, path: 'schedule.maxBeta' },
      { options: { s: -0.1 }, path: 'schedule.s' },
      { options: { timesteps: 10.5 }, path: 'schedule.timesteps' },
      { options: { betaStart: 0.1 }, path: 'schedule.betaStart' },
    ],
  },
);

/** Nichol & Dhariwal 2021, eq. 17, written out independently of the implementation. */
const f = (u: number, s = 0.008) => Math.cos(((u + s) / (1 + s)) * (Math.PI / 2)) ** 2;

describe('cosine', () => {
  it('ᾱ_t = f((t+1)/T)/f(0) wherever β is not clipped (T = 1000)', async () => {
    const sch = await createSchedule(cosineSchedule, {});
    const T = 1000;
    for (let t = 0; t < T - 1; t++) {
      const want = f((t + 1) / T) / f(0);
      expect(Math.abs(sch.alphasCumprod[t] - want)).toBeLessThanOrEqual(1e-12 * Math.max(want, 1e-3));
    }
    // Hand value at the midpoint: cos²(0.508/1.008·π/2)/cos²(0.008/1.008·π/2) = 0.493844 (computed in Python)
    expect(sch.alphasCumprod[499]).toBeCloseTo(f(0.5) / f(0), 12);
    expect(sch.alphasCumprod[499]).toBeCloseTo(0.493844, 6);
  });

  it('the last β is clipped to maxBeta = 0.999, so ᾱ_T = 0.001·ᾱ_{T−1}', async () => {
    const sch = await createSchedule(cosineSchedule, { timesteps: 100 });
    expect(sch.betas[99]).toBe(0.999);
    expect(sch.alphasCumprod[99] / sch.alphasCumprod[98]).toBeCloseTo(0.001, 12);
  });

  it('maxBeta clips every β above it and leaves the rest on the formula', async () => {
    const sch = await createSchedule(cosineSchedule, { timesteps: 50, maxBeta: 0.1 });
    let clipped = 0;
    for (let t = 0; t < 50; t++) {
      const raw = 1 - f((t + 1) / 50) / f(t / 50);
      if (raw > 0.1) {
        expect(sch.betas[t]).toBe(0.1);
        clipped++;
      } else expect(sch.betas[t]).toBeCloseTo(raw, 14);
    }
    expect(clipped).toBeGreaterThan(1);
  });

  it('option s moves f; s = 0 gives ᾱ_t = cos²((t+1)/T·π/2)', async () => {
    const sch = await createSchedule(cosineSchedule, { timesteps: 20, s: 0 });
    for (let t = 0; t < 19; t++) expect(sch.alphasCumprod[t]).toBeCloseTo(Math.cos(((t + 1) / 20) * (Math.PI / 2)) ** 2, 13);
  });

  it('maxBeta = 1 makes the last β exactly 1 (ᾱ_T = 0), which core allows at the final step', async () => {
    const sch = await createSchedule(cosineSchedule, { timesteps: 100, maxBeta: 1 });
    expect(sch.betas[99]).toBe(1);
    expect(sch.alphasCumprod[99]).toBe(0);
  });
});
