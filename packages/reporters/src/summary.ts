/**
 * `summary`: writes `summary.json` at the end of a run — the one file sweeps aggregate, so it is
 * written atomically (temp file, then rename) and never seen half-written.
 */
import { definePlugin, type PluginContext, type Reporter, z } from '@diffusionlab/core';
import { runPath, writeFileAtomic } from './files.js';
import { runFileOption } from './run-file.js';

/** Options of the `summary` reporter. */
export const summaryOptions = z
  .object({
    file: runFileOption('summary.json').describe('File name inside the run directory.'),
  })
  .strict();

/** JSON replacer: typed arrays become plain arrays (JSON.stringify would write them as objects). */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** Builds the summary reporter. */
export function createSummaryReporter(options: z.output<typeof summaryOptions>, context: PluginContext): Reporter {
  return {
    name: 'summary',
    onRunEnd(e) {
      const path = runPath('summary', e.runDir ?? context.runDir, options.file);
      writeFileAtomic('summary', path, `${JSON.stringify(e.summary, jsonReplacer, 2)}\n`);
    },
  };
}

/** The `summary` reporter plugin. */
export const summaryReporter = definePlugin({
  kind: 'reporter',
  name: 'summary',
  description: 'Writes summary.json (config, metrics, timings) atomically at the end of the run.',
  options: summaryOptions,
  create: createSummaryReporter,
});
