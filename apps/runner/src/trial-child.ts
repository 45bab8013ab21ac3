#!/usr/bin/env node
/**
 * The process one isolated sweep trial runs in (forked by `--jobs` > 1 and by `diffusionlab worker`):
 * reads `{ payload, outDir, modelDir }` from the JSON file named on its command line, runs the trial,
 * prints its log to stdout and, on failure, one `error:` line to stderr. A crash or a kill ends only
 * this trial; the process that forked it reports the failure.
 */
import { readFileSync } from 'node:fs';
import { isDiffusionLabError } from '@diffusionlab/core';
import { formatError, loadAccelerator } from './cli.js';
import { userError } from './io-errors.js';
import { exitQuietlyOnEpipe } from './stdout-pipe.js';
import { runTrialHere, type TrialPayload } from './trial.js';

exitQuietlyOnEpipe();
// The process that forked this trial is gone (a worker killed with SIGKILL): stop, its trial is requeued.
// Listening refs the IPC channel, so it is unref'd when the trial ends, letting this process exit.
let finished = false;
process.on('disconnect', () => {
  if (!finished) process.exit(1);
});
const done = () => {
  finished = true;
  process.channel?.unref();
};

async function child(file: string): Promise<void> {
  const { payload, outDir, modelDir } = JSON.parse(readFileSync(file, 'utf8')) as { payload: TrialPayload; outDir: string; modelDir?: string };
  await runTrialHere(payload, { outDir, modelDir, print: (l) => process.stdout.write(`${l}\n`) }, process.cwd(), await loadAccelerator());
}

child(process.argv[2]).then(
  () => {
    process.exitCode = 0;
    done();
  },
  (e) => {
    process.stderr.write(`${formatError(e)}\n`);
    process.exitCode = isDiffusionLabError(userError(e)) ? 2 : 1;
    done();
  },
);
