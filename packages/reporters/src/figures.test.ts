import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLossReporter, logDomain, lossOptions, lossSpec } from './loss.js';
import { createScatterReporter, points2d, scatterOptions } from './scatter.js';
import { createScheduleReporter, scheduleOptions } from './schedule.js';
import { createTrajectoryReporter, evenlySpaced, gridColumns, panelLabel, trajectoryOptions, trajectorySpec } from './trajectory.js';
import { ctx, expectPng, runEnd, runStart, sampleEvent, tempDir, unwritableDir } from './test-fixtures.js';

describe('figure reporters', () => {
  it('loss: writes loss.png, drops points a log axis cannot show, skips an empty history', async () => {
    const dir = tempDir();
    await createLossReporter(lossOptions.parse({}), ctx(dir)).onRunEnd?.(runEnd(dir));
    expectPng(join(dir, 'loss.png'));
    const spec = lossSpec(
      [
        { epoch: 1, step: 1, loss: 0 },
        { epoch: 2, step: 2, loss: Number.NaN },
        { epoch: 3, step: 3, loss: 0.5 },
      ],
      true,
    ) as unknown as { data: { values: unknown[] } };
    expect(spec.data.values).toHaveLength(1);
    const empty = tempDir();
    await createLossReporter(lossOptions.parse({}), ctx(empty)).onRunEnd?.(runEnd(empty, { lossHistory: [] }));
    expect(readdirSync(empty)).toEqual([]);
  });

  it('loss: a log axis ends on the 1-2-5 ladder just outside the data, not on whole decades', () => {
    expect(logDomain(0.41, 0.8)).toEqual([0.2, 1]);
    expect(logDomain(0.5, 3.2)).toEqual([0.5, 5]);
    expect(logDomain(0.02, 0.021)).toEqual([0.02, 0.05]);
    expect(logDomain(1, 10)).toEqual([1, 10]);
    const spec = lossSpec(runEnd('x').lossHistory, true) as unknown as { encoding: { x: { scale: { domain: number[] } }; y: { scale: { domain: number[] } } } };
    expect(spec.encoding.x.scale.domain).toEqual([0, 1600]);
    expect(spec.encoding.y.scale.domain).toEqual([0.2, 2]); // losses 0.30 … 1.30
  });

  it('scatter: writes scatter.png for 2-D data only', async () => {
    const dir = tempDir();
    const r = createScatterReporter(scatterOptions.parse({}), ctx(dir));
    await r.onSample?.(sampleEvent());
    expect(readdirSync(dir)).toEqual([]);
    await r.onSample?.(sampleEvent({ shape: [2] }));
    expectPng(join(dir, 'scatter.png'));
    expect(points2d(Float32Array.from([1, 2, 3, Number.NaN, 5, 6]), 'real', 10)).toEqual([
      { x: 1, y: 2, series: 'real' },
      { x: 5, y: 6, series: 'real' },
    ]);
  });

  it('trajectory: small multiples for 1-D and 2-D, nothing for other shapes', async () => {
    for (const shape of [[1], [2]]) {
      const dir = tempDir();
      await createTrajectoryReporter(trajectoryOptions.parse({}), ctx(dir)).onSample?.(sampleEvent({ shape }));
      expectPng(join(dir, 'trajectory.png'));
    }
    const dir = tempDir();
    await createTrajectoryReporter(trajectoryOptions.parse({}), ctx(dir)).onSample?.(sampleEvent({ shape: [3] }));
    await createTrajectoryReporter(trajectoryOptions.parse({}), ctx(dir)).onSample?.(sampleEvent({ trajectory: [] }));
    expect(readdirSync(dir)).toEqual([]);
    expect(evenlySpaced(101, 6)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(evenlySpaced(3, 6)).toEqual([0, 1, 2]);
    expect(panelLabel({ step: 100, t: -1 })).toBe('step 100 (data)');
    expect(panelLabel({ step: 1, t: 98.5 })).toBe('step 1 (t = 98.5)');
  });

  it('trajectory: balances the grid and gives each panel its own x axis when a row stays ragged', () => {
    expect([2, 4, 5, 6, 7, 9].map((k) => gridColumns(k, 3))).toEqual([2, 2, 3, 3, 3, 3]);
    const spec = (panels: number) =>
      trajectorySpec(
        sampleEvent({ trajectory: Array.from({ length: panels }, (_, k) => ({ step: k, t: panels - 1 - k, samples: new Float32Array([k, k + 1]) })) }),
        trajectoryOptions.parse({}),
      ) as unknown as { columns: number; resolve: { axis?: { x: string } } };
    expect(spec(4).columns).toBe(2);
    expect(spec(4).resolve.axis).toBeUndefined();
    expect(spec(5)).toMatchObject({ columns: 3, resolve: { axis: { x: 'independent' } } });
  });

  it('schedule: writes schedule.png at run start', async () => {
    const dir = tempDir();
    await createScheduleReporter(scheduleOptions.parse({}), ctx(dir)).onRunStart?.(runStart(dir));
    expectPng(join(dir, 'schedule.png'));
  });

  it('a figure reporter names the file it could not write', async () => {
    const dir = unwritableDir();
    await expect(createLossReporter(lossOptions.parse({}), ctx(dir)).onRunEnd?.(runEnd(dir))).rejects.toThrow(`reporter 'loss' could not write ${join(dir, 'loss.png')}`);
  });
});
