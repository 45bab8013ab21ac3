/**
 * `summary`: writes `summary.json` at the end of a run — the one file sweeps aggregate, so it is
 * written atomically (temp file, then rename) and never seen half-written.
 */
import { definePlugin, type PluginContext, type Reporter, runFileOption, withDefaults, z } from '@diffusionlab/core';
import { runPath, writeFileAtomic } from './files.js';

/** Options of the `summary` reporter. */
export const summaryOptions = z
  .object({
    file: runFileOption('summary.json'),
  })
  .strict();

/** JSON replacer: typed arrays become plain arrays (JSON.stringify would write them as objects). */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** Builds the summary reporter. */
function buildSummaryReporter(options: z.output<typeof summaryOptions>, context: PluginContext): Reporter {
  return {
    name: 'summary',
    onRunEnd(e) {
      const path = runPath('summary', context, options.file, e.runDir ?? context.runDir);
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
  create: buildSummaryReporter,
});

/**
 * The `summary` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createSummaryReporter({ … })`).
 */
export const createSummaryReporter = withDefaults(summaryReporter.options, buildSummaryReporter, 'reporter');
