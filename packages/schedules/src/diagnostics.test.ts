import { createSchedule } from '@diffusionlab/testkit';
import { describe, expect, it } from 'vitest';
import { cosineSchedule } from './cosine.js';
import { scheduleDiagnostics } from './diagnostics.js';
import { linearSchedule } from './linear.js';

describe('diagnostics (core scheduleDiagnostics on these schedules)', () => {
  it('flags the reference schedule (ᾱ_T ≈ 0.36) and names the fixes', async () => {
    const d = scheduleDiagnostics(await createSchedule(linearSchedule, { timesteps: 100 }));
    expect(d.alphaBarT).toBeCloseTo(0.3636, 4);
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toContain('rescaleZeroTerminalSnr');
  });

  it('is quiet for cosine and for the rescaled reference, whose SNR_T is 0', async () => {
    expect(scheduleDiagnostics(await createSchedule(cosineSchedule, { timesteps: 100 })).warnings).toEqual([]);
    const z = scheduleDiagnostics(await createSchedule(linearSchedule, { timesteps: 100, rescaleZeroTerminalSnr: true }));
    expect(z.warnings).toEqual([]);
    expect(z.snrMin).toBe(0);
    expect(z.logSnrMin).toBe(Number.NEGATIVE_INFINITY);
  });
});
