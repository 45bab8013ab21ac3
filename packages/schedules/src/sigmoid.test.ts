import { createSchedule, expectClose, scheduleConformance } from '@diffusionlab/testkit';
import { describe, expect, it } from 'vitest';
import { sigmoidSchedule } from './sigmoid.js';

scheduleConformance(sigmoidSchedule, [{}, { timesteps: 100 }, { timesteps: 1 }, { timesteps: 100, rescaleZeroTerminalSnr: true }], {
  invalid: [
    { options: { betaEnd: 1.5 }, path: 'schedule.betaEnd' },
    { options: { betaStart: 0.5, betaEnd: 0.1 }, path: 'schedule.betaEnd' },
    { options: { timesteps: 0 }, path: 'schedule.timesteps' },
  ],
});

describe('sigmoid (GeoDiff)', () => {
  it('endpoints are sigmoid(∓6)·(0.02 − 1e-4) + 1e-4 (σ(−6) = 0.0024726231566347743)', async () => {
    const s = await createSchedule(sigmoidSchedule, { timesteps: 101 });
    const lo = 0.0024726231566347743;
    expect(s.betas[0]).toBeCloseTo(lo * 0.0199 + 1e-4, 17);
    expect(s.betas[100]).toBeCloseTo((1 - lo) * 0.0199 + 1e-4, 17);
    // Odd T: the middle is σ(0) = ½ of the way.
    expect(s.betas[50]).toBeCloseTo((0.0001 + 0.02) / 2, 17);
  });

  it('is symmetric: β_t + β_{T−1−t} = betaStart + betaEnd (σ(x) + σ(−x) = 1)', async () => {
    const s = await createSchedule(sigmoidSchedule, { timesteps: 64, betaStart: 0.001, betaEnd: 0.05 });
    const sums = Array.from({ length: 64 }, (_, t) => s.betas[t] + s.betas[63 - t]);
    expectClose(sums, new Array(64).fill(0.051), 1e-15);
  });

  it('β at t is σ(−6 + 12t/(T−1)) scaled into [betaStart, betaEnd]', async () => {
    const s = await createSchedule(sigmoidSchedule, { timesteps: 7 });
    const want = [0, 1, 2, 3, 4, 5, 6].map((t) => 0.0199 / (1 + Math.exp(6 - 2 * t)) + 1e-4);
    expectClose(s.betas, want, 1e-17);
  });
});
