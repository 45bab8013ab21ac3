/**
 * Every built-in reporter passes the shared reporter conformance suite of @diffusionlab/testkit:
 * every hook runs with and without the optional data, and alone; files appear only inside the run
 * directory; a `file` option that would leave it is refused by the schema.
 */
import { type ReporterConformanceOptions, reporterConformance } from '@diffusionlab/testkit';
import { describe, expect, it } from 'vitest';
import { plugins } from './index.js';

/** `file` values that point outside the run directory; every reporter with a `file` option must refuse them at reporter.file. */
const escapes = ['../outside.png', '/tmp/outside.png', 'sub/../../outside.png'];
const fileOption = (extra: ReporterConformanceOptions = {}): ReporterConformanceOptions => ({
  ...extra,
  invalid: [...(extra.invalid ?? []), ...escapes.map((file) => ({ options: { file }, path: 'reporter.file' }))],
});

/** The settings each built-in plugin is tested with; every plugin must have an entry. */
const settings: Record<string, ReporterConformanceOptions> = {
  console: {},
  summary: fileOption({ optionsList: [{}, { file: 'out/summary.json' }] }),
  jsonl: fileOption({ optionsList: [{}, { epochs: 'all' }] }),
  csv: fileOption(),
  histogram: fileOption(),
  scatter: fileOption(),
  trajectory: fileOption(),
  // The loss curve and the schedule do not depend on the data's shape.
  loss: fileOption({ shapes: [[1]] }),
  schedule: fileOption({ shapes: [[1]] }),
  'image-grid': fileOption({ shapes: [[2], [8, 8, 1]] }),
  html: fileOption(),
};

describe('built-in reporters', () => {
  it('each has conformance settings', () => {
    expect(plugins.map((p) => p.name).filter((name) => !(name in settings))).toEqual([]);
  });
});

for (const plugin of plugins) if (settings[plugin.name]) reporterConformance(plugin, settings[plugin.name]);

describe('run-directory file names', () => {
  it('are refused when they climb out, are absolute or name no file', async () => {
    const { pathEscape } = await import('@diffusionlab/core');
    const { runPath } = await import('./index.js');
    for (const ok of ['a.png', 'figures/a.png', './a.png', 'a..b.png']) expect(pathEscape(ok)).toBeNull();
    for (const bad of ['../a.png', 'x/../../a.png', '..\\a.png', '/etc/a.png', '\\a.png', 'C:\\a.png', '.']) expect(pathEscape(bad)).not.toBeNull();
    const context = { seed: 0, print: () => {}, interactive: false };
    expect(() => runPath('summary', context, '../summary.json', '/runs/r')).toThrow(/climbs out of the run directory/);
  });
});
