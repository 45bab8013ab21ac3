import { createSchedule } from '@diffusionlab/testkit';
import { describe, expect, it } from 'vitest';
import { cosineSchedule } from './cosine.js';
import { linearSchedule, linearBetas } from './linear.js';
import { scaledLinearSchedule } from './scaled-linear.js';
import { sigmoidSchedule } from './sigmoid.js';
import { rescaleZeroTerminalSnr } from './zero-terminal-snr.js';

describe('zero-terminal-SNR rescale (Lin et al. 2023, Algorithm 1)', () => {
  for (const [plugin, opts] of [
    [linearSchedule, { timesteps: 100 }],
    [linearSchedule, {}],
    [scaledLinearSchedule, {}],
    [cosineSchedule, { timesteps: 50 }],
    [sigmoidSchedule, { timesteps: 300 }],
  ] as const) {
    it(`${plugin.name} ${JSON.stringify(opts)}: ᾱ_T = 0, β_T = 1, ᾱ_0 unchanged, √ᾱ mapped affinely`, async () => {
      const base = await createSchedule(plugin, opts);
      const z = await createSchedule(plugin, { ...opts, rescaleZeroTerminalSnr: true });
      const T = base.numTrainTimesteps;
      expect(z.alphasCumprod[T - 1]).toBe(0);
      expect(z.betas[T - 1]).toBe(1);
      expect(z.alphasCumprod[0] / base.alphasCumprod[0]).toBeCloseTo(1, 14);
      // The paper's map: √ᾱ'_t = (√ᾱ_t − √ᾱ_T)·√ᾱ_0/(√ᾱ_0 − √ᾱ_T).
      const a = Array.from(base.alphasCumprod, Math.sqrt);
      const k = a[0] / (a[0] - a[T - 1]);
      for (let t = 0; t < T; t++) expect(Math.abs(Math.sqrt(z.alphasCumprod[t]) - (a[t] - a[T - 1]) * k)).toBeLessThan(1e-12);
      expect(z.params.rescaleZeroTerminalSnr).toBe(true);
    });
  }

  it('reference schedule (T = 100): √ᾱ_T 0.603 → 0, so SNR_T goes from 0.571 to 0', async () => {
    const base = await createSchedule(linearSchedule, { timesteps: 100 });
    const z = await createSchedule(linearSchedule, { timesteps: 100, rescaleZeroTerminalSnr: true });
    expect(Math.sqrt(base.alphasCumprod[99])).toBeCloseTo(Math.sqrt(0.3635632480554919), 12);
    expect(base.alphasCumprod[99] / (1 - base.alphasCumprod[99])).toBeCloseTo(0.571248, 6);
    expect(z.alphasCumprod[99]).toBe(0);
  });

  it('T = 2 by hand: β = [β₀, 1]', () => {
    const out = rescaleZeroTerminalSnr([0.1, 0.2]);
    expect(out[0]).toBeCloseTo(0.1, 15);
    expect(out[1]).toBe(1);
  });

  it('does not modify its input and rejects T < 2 at schedule.rescaleZeroTerminalSnr', () => {
    const b = linearBetas(10, 1e-4, 0.02);
    const copy = b.slice();
    rescaleZeroTerminalSnr(b);
    expect(b).toEqual(copy);
    expect(() => rescaleZeroTerminalSnr([0.5])).toThrow(/schedule\.rescaleZeroTerminalSnr/);
  });
});
