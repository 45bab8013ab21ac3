import { ConfigError, parseOptions } from '@diffusionlab/core';
import { createSchedule, expectClose, scheduleConformance } from '@diffusionlab/testkit';
import { describe, expect, it } from 'vitest';
import { linearSchedule, linearBetas } from './linear.js';

scheduleConformance(linearSchedule, [{}, { timesteps: 100 }, { timesteps: 1 }, { timesteps: 100, rescaleZeroTerminalSnr: true }], {
  invalid: [
    { options: { betaEnd: 1.5 }, path: 'schedule.betaEnd' },
    { options: { betaStart: 0 }, path: 'schedule.betaStart' },
    { options: { betaStart: 0.02, betaEnd: 0.01 }, path: 'schedule.betaEnd' },
    { options: { timesteps: 0 }, path: 'schedule.timesteps' },
    { options: { timesteps: 2.5 }, path: 'schedule.timesteps' },
    { options: { timesteps: 1, rescaleZeroTerminalSnr: true }, path: 'schedule.rescaleZeroTerminalSnr' },
    { options: { betaend: 0.02 }, path: 'schedule.betaend' },
  ],
});

describe('linear (the reference schedule)', () => {
  it('β = linspace(1e-4, 0.02, 100): exact endpoints and constant spacing 0.0199/99', async () => {
    const s = await createSchedule(linearSchedule, { timesteps: 100 });
    expect(s.betas[0]).toBe(0.0001);
    expect(s.betas[99]).toBe(0.02);
    // Hand-computed: β_33 = 1e-4 + 33·0.0199/99 = 0.0067333…
    expect(s.betas[33]).toBeCloseTo(1e-4 + (33 * 0.0199) / 99, 16);
    for (let t = 1; t < 100; t++) expect(Math.abs(s.betas[t] - s.betas[t - 1] - 0.0199 / 99)).toBeLessThan(1e-17);
  });

  it('ᾱ_T for T = 100 is 0.3636 (exact rational product Π(1 − β) = 0.36356324805549…)', async () => {
    const s = await createSchedule(linearSchedule, { timesteps: 100 });
    // Reference computed independently with exact rational arithmetic (Python fractions).
    expect(s.alphasCumprod[99]).toBeCloseTo(0.3636, 4);
    expect(Math.abs(s.alphasCumprod[99] - 0.3635632480554919)).toBeLessThan(1e-13);
  });

  it('ᾱ_T for T = 1000 (DDPM defaults) is 4.0358e-5', async () => {
    const s = await createSchedule(linearSchedule, {});
    expect(s.alphasCumprod[999] / 4.0358297653756754e-5).toBeCloseTo(1, 9);
  });

  it('records the parsed options as params', async () => {
    const s = await createSchedule(linearSchedule, { timesteps: 100 });
    expect(s.params).toEqual({ timesteps: 100, betaStart: 0.0001, betaEnd: 0.02, rescaleZeroTerminalSnr: false });
  });

  it('T = 1 gives β = [betaStart]', () => {
    expectClose(linearBetas(1, 0.001, 0.02), [0.001], 0);
  });

  it('each bad option gives exactly one issue naming its key', () => {
    const issues = (raw: unknown) => {
      try {
        parseOptions(linearSchedule.options, raw, 'schedule');
      } catch (e) {
        if (e instanceof ConfigError) return e.issues;
        throw e;
      }
      return [];
    };
    expect(issues({ betaEnd: 1.5 })).toEqual([{ path: 'schedule.betaEnd', message: expect.stringContaining('(0, 1)') }]);
    expect(issues({ timesteps: -2.5 })).toEqual([{ path: 'schedule.timesteps', message: expect.stringContaining('positive integer') }]);
    expect(issues({ betaStart: 0.03 })).toEqual([{ path: 'schedule.betaEnd', message: expect.stringContaining('≥ betaStart') }]);
    expect(issues({ timesteps: 2_000_000 })).toHaveLength(1);
  });

  it('create() without schema validation still fails in core with a ConfigError, not NaN', () => {
    expect(() => linearSchedule.create({ timesteps: 10, betaStart: 0.5, betaEnd: 1.5, rescaleZeroTerminalSnr: false }, {} as never)).toThrow(ConfigError);
  });
});
