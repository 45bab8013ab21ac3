#!/usr/bin/env node
/** Executable entry of the `diffusionlab` CLI: runs {@link main} and maps errors to exit codes. */
import { isDiffusionLabError } from '@diffusionlab/core';
import { formatError, main } from './cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`${formatError(e)}\n`);
    process.exitCode = isDiffusionLabError(e) ? 2 : 1;
  },
);
