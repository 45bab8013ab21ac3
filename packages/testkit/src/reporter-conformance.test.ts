import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin, type Reporter, z } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { checkReporterHooks, reporterConformance } from './reporter-conformance.js';

/** Faults to inject, so each check is shown to fail on the fault it is for. */
interface Faults {
  besideRun?: boolean;
  inCwd?: boolean;
  needsTrajectory?: boolean;
  needsRunStart?: boolean;
}

/** Writes one line per hook to `events.txt` in the run directory (or where a fault puts it). */
function eventLog(runDir: string, f: Faults = {}): Reporter {
  let name: string | undefined;
  const write = (line: string) => {
    const path = f.besideRun ? join(runDir, '..', 'events.txt') : f.inCwd ? 'events.txt' : join(runDir, 'logs', 'events.txt');
    if (!f.besideRun && !f.inCwd) mkdirSync(join(runDir, 'logs'), { recursive: true });
    writeFileSync(path, `${line}\n`, { flag: 'a' });
  };
  return {
    name: 'event-log',
    onRunStart(e) {
      name = e.name;
      write(`start ${e.name}`);
    },
    onSample(e) {
      write(`sample ${e.n}${f.needsTrajectory ? ` last step ${e.trajectory[e.trajectory.length - 1].step}` : ''}`);
    },
    onRunEnd() {
      write(`end ${f.needsRunStart ? name!.toUpperCase() : ''}`);
    },
  };
}

reporterConformance(
  definePlugin({
    kind: 'reporter',
    name: 'event-log',
    description: 'Logs hook calls (test reporter)',
    options: z.object({ verbose: z.boolean().default(false).describe('unused') }).strict(),
    create: (_o, ctx) => eventLog(ctx.runDir!),
  }),
  { optionsList: [{}, { verbose: true }], invalid: [{ options: { verbose: 'yes' }, path: 'reporter.verbose' }] },
);

describe('reporter checks fail on the fault they are for', () => {
  it('files written beside the run directory or in the working directory', async () => {
    await expect(checkReporterHooks('event-log', (d) => eventLog(d, { besideRun: true }), [1], true)).rejects.toThrow(/wrote outside its run directory: events\.txt/);
    await expect(checkReporterHooks('event-log', (d) => eventLog(d, { inCwd: true }), [1], true)).rejects.toThrow(/wrote outside its run directory: cwd\/events\.txt/);
  });
  it('a hook that needs optional data', async () => {
    expect(await checkReporterHooks('event-log', (d) => eventLog(d, { needsTrajectory: true }), [1], true)).toEqual(['logs/', 'logs/events.txt']);
    await expect(checkReporterHooks('event-log', (d) => eventLog(d, { needsTrajectory: true }), [1], false)).rejects.toThrow(/onSample threw with the optional data absent/);
  });
  it('a hook that needs an earlier hook', async () => {
    await checkReporterHooks('event-log', (d) => eventLog(d, { needsRunStart: true }), [1], false);
    await expect(checkReporterHooks('event-log', (d) => eventLog(d, { needsRunStart: true }), [1], false, ['onRunEnd'])).rejects.toThrow(/onRunEnd threw .* hooks onRunEnd/);
  });
});
