/**
 * `csv`: streams one CSV row per logged epoch while training, for spreadsheets and plotting tools that
 * want columns rather than JSON.
 */
import { definePlugin, type PluginContext, type Reporter, runFileOption, withDefaults, z } from '@diffusionlab/core';
import { runPath } from './files.js';
import { epochRecord } from './jsonl.js';
import { LineFile } from './stream.js';

/** Options of the `csv` reporter. */
export const csvOptions = z
  .object({
    file: runFileOption('log.csv'),
    epochs: z.enum(['logged', 'all']).default('logged').describe('Which epochs to write: those the config logs (training.logEvery), or every epoch.'),
  })
  .strict();

/** Column names, in the order of {@link epochRecord}'s fields. */
export const CSV_HEADER = 'epoch,step,loss,learningRate,elapsedSeconds';

/** Builds the csv reporter. */
function buildCsvReporter(options: z.output<typeof csvOptions>, context: PluginContext): Reporter {
  let file: LineFile | undefined;
  const open = (runDir: string | undefined) => {
    file ??= new LineFile('csv', runPath('csv', context, options.file, runDir ?? context.runDir), CSV_HEADER);
    return file;
  };
  return {
    name: 'csv',
    onRunStart(e) {
      open(e.runDir);
    },
    onEpochEnd(e) {
      if (options.epochs === 'logged' && !e.logged) return;
      const r = epochRecord(e);
      open(undefined).writeLine([r.epoch, r.step, r.loss, r.learningRate, r.elapsedSeconds].map(String).join(','));
    },
    onRunEnd() {
      file?.close();
    },
  };
}

/** The `csv` reporter plugin. */
export const csvReporter = definePlugin({
  kind: 'reporter',
  name: 'csv',
  description: 'Streams one CSV row per logged epoch (epoch, step, loss, learning rate, time) to log.csv.',
  options: csvOptions,
  create: buildCsvReporter,
});

/**
 * The `csv` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createCsvReporter({ … })`).
 */
export const createCsvReporter = withDefaults(csvReporter.options, buildCsvReporter, 'reporter');
