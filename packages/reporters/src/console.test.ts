import { describe, expect, it } from 'vitest';
import { BAR_INTERVAL_MS, consoleOptions, createConsoleReporter, formatDuration, formatNumber, metricsTable, progressLine } from './console.js';
import { ctx, epochEnd, referenceSchedule, runEnd, runStart, sampleEvent } from './test-fixtures.js';

/** A console reporter with a fake terminal and clock. */
function setup(progress: 'auto' | 'always' | 'never', interactive: boolean) {
  const c = ctx('/runs/x', interactive);
  const writes: string[] = [];
  let now = 0;
  const r = createConsoleReporter(consoleOptions.parse({ progress }), c, { write: (s) => writes.push(s), now: () => now });
  return { r, c, writes, tick: (ms: number) => (now += ms) };
}

const progress = (step: number) => ({ step, totalSteps: 1000, epoch: 1, epochs: 10, elapsedSeconds: step / 100 });

describe('console reporter', () => {
  it('prints the header and each warning once', () => {
    const { r, c } = setup('never', false);
    const warnings = ['ᾱ_T = 0.364 is far from 0', 'raw t input', 'ᾱ_T = 0.364 is far from 0'];
    r.onRunStart?.(runStart('/runs/x', { warnings }));
    r.onRunStart?.(runStart('/runs/x', { warnings: ['raw t input'] }));
    const abT = referenceSchedule.alphasCumprod[99];
    expect(abT).toBeCloseTo(0.3636, 4);
    expect(c.lines.slice(0, 6)).toEqual([
      'diffusionlab: seed-1d',
      '  data shape [1], 17,025 parameters',
      `  schedule linear, T = 100, ᾱ_T = ${Number(abT.toPrecision(4))}`,
      '  training 32000 steps (1000 epochs)',
      'warning: ᾱ_T = 0.364 is far from 0',
      'warning: raw t input',
    ]);
    expect(c.lines.filter((l) => l.startsWith('warning:'))).toHaveLength(2);
  });

  it("prints the reference's epoch line exactly, only on logged epochs", () => {
    const { r, c } = setup('never', false);
    r.onEpochEnd?.(epochEnd(99, { meanLoss: 0.4 }));
    r.onEpochEnd?.(epochEnd(100, { meanLoss: 0.123456789 }));
    r.onEpochEnd?.(epochEnd(1000, { meanLoss: 0.5 }));
    expect(c.lines).toEqual(['Epoch 100/1000, Loss: 0.123457', 'Epoch 1000/1000, Loss: 0.500000']);
  });

  it('prints one sampling line, an aligned metrics table and the run directory', () => {
    const { r, c } = setup('never', false);
    r.onSample?.(sampleEvent());
    r.onEvaluate?.({ metrics: { w1: 0.0523456, w1NoiseFloor: 0.031, modes: 2, coverage: 0.5 }, details: {} });
    r.onRunEnd?.(runEnd('/runs/x'));
    expect(c.lines).toEqual([
      'Sampled 400 with ddpm: 100 NFE in 1.23 s',
      'metric      value  noise floor',
      'w1        0.05235        0.031',
      'modes           2            -',
      'coverage      0.5            -',
      'Run directory: /runs/x',
    ]);
  });

  it('draws a throttled progress bar when interactive, and clears it before other lines', () => {
    const { r, c, writes, tick } = setup('auto', true);
    r.onTrainProgress?.(progress(1));
    tick(BAR_INTERVAL_MS / 2);
    r.onTrainProgress?.(progress(2)); // too soon: skipped
    tick(BAR_INTERVAL_MS);
    r.onTrainProgress?.(progress(500));
    expect(writes).toHaveLength(2);
    expect(writes[1]).toBe(`\r\x1b[K${progressLine(500, 1000, 5)}`);
    r.onEpochEnd?.(epochEnd(100));
    expect(writes).toHaveLength(3);
    expect(writes[2]).toBe('\r\x1b[K');
    expect(c.lines).toEqual(['Epoch 100/1000, Loss: 0.005000']);
    r.onTrainProgress?.(progress(1000)); // the final step always draws
    expect(writes).toHaveLength(4);
  });

  it('draws no bar when not interactive (auto) or when never; always forces it', () => {
    for (const [mode, interactive, expected] of [
      ['auto', false, 0],
      ['never', true, 0],
      ['always', false, 1],
    ] as const) {
      const { r, writes } = setup(mode, interactive);
      r.onTrainProgress?.(progress(10));
      expect(writes, `${mode}/${interactive}`).toHaveLength(expected);
    }
  });

  it('formats the bar with step/total, rate and ETA', () => {
    expect(progressLine(250, 1000, 5)).toBe(`${'█'.repeat(6)}${'░'.repeat(18)}  25% 250/1000 steps  50.0 steps/s  ETA 0:15`);
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Number.NaN)).toBe('--:--');
    expect(formatNumber(0.000123456)).toBe('0.0001235');
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe('Infinity');
    // Metric details may be lists (per-dimension W1, mode fractions): each entry is rounded.
    expect(formatNumber([0.08842175674438477])).toBe('0.08842');
    expect(formatNumber([0.497, 0.5, 2])).toBe('0.497, 0.5, 2');
    expect(metricsTable({ w1: 0.1, perDim: [0.123456, 2] })[2]).toBe('perDim  0.1235, 2            -');
  });

  it('rejects an unknown progress mode', () => {
    expect(() => consoleOptions.parse({ progress: 'sometimes' })).toThrow();
    expect(metricsTable({})).toEqual(['metric  value  noise floor']);
  });
});
