/**
 * `jsonl`: streams one JSON object per logged epoch while training (epoch, step, loss, learning rate,
 * elapsed seconds), so a long run can be followed with `tail -f` or loaded by any tool line by line.
 */
import { definePlugin, type EpochEndEvent, type PluginContext, type Reporter, runFileOption, withDefaults, z } from '@diffusionlab/core';
import { runPath } from './files.js';
import { LineFile } from './stream.js';

/** Options of the `jsonl` reporter. */
export const jsonlOptions = z
  .object({
    file: runFileOption('log.jsonl', 'File name inside the run directory (the runner itself already writes metrics.jsonl).'),
    epochs: z.enum(['logged', 'all']).default('logged').describe('Which epochs to write: those the config logs (training.logEvery), or every epoch.'),
  })
  .strict();

/** The record written for one epoch; field names match the CSV columns. */
export function epochRecord(e: EpochEndEvent): { epoch: number; step: number; loss: number; learningRate: number; elapsedSeconds: number } {
  return { epoch: e.epoch, step: e.step, loss: e.meanLoss, learningRate: e.learningRate, elapsedSeconds: e.elapsedSeconds };
}

/** Builds the jsonl reporter. */
function buildJsonlReporter(options: z.output<typeof jsonlOptions>, context: PluginContext): Reporter {
  let file: LineFile | undefined;
  const open = (runDir: string | undefined) => {
    file ??= new LineFile('jsonl', runPath('jsonl', context, options.file, runDir ?? context.runDir));
    return file;
  };
  return {
    name: 'jsonl',
    onRunStart(e) {
      open(e.runDir);
    },
    onEpochEnd(e) {
      if (options.epochs === 'logged' && !e.logged) return;
      // JSON has no NaN/Infinity: a diverged loss is written as null rather than breaking the line.
      open(undefined).writeLine(JSON.stringify(epochRecord(e)));
    },
    onRunEnd() {
      file?.close();
    },
  };
}

/** The `jsonl` reporter plugin. */
export const jsonlReporter = definePlugin({
  kind: 'reporter',
  name: 'jsonl',
  description: 'Streams one JSON line per logged epoch (epoch, step, loss, learning rate, time) to log.jsonl.',
  options: jsonlOptions,
  create: buildJsonlReporter,
});

/**
 * The `jsonl` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createJsonlReporter({ … })`).
 */
export const createJsonlReporter = withDefaults(jsonlReporter.options, buildJsonlReporter, 'reporter');
