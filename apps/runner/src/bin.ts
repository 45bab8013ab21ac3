#!/usr/bin/env node
/** Executable entry of the `diffusionlab` CLI: runs {@link main} and maps errors to exit codes. */
import { fileURLToPath } from 'node:url';
import { isDiffusionLabError } from '@diffusionlab/core';
import { callerCwd } from './caller-cwd.js';
import { formatError, main } from './cli.js';
import { exitQuietlyOnEpipe } from './stdout-pipe.js';
import { userError } from './io-errors.js';

exitQuietlyOnEpipe();
// Relative paths on the command line (and the default runs/ folder) are the user's folder's.
process.chdir(callerCwd(process.env, process.cwd(), fileURLToPath(import.meta.url)));

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`${formatError(e, process.argv.includes('--debug'))}\n`);
    process.exitCode = isDiffusionLabError(userError(e)) ? 2 : 1;
  },
);
