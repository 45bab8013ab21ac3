#!/usr/bin/env node
/** Executable entry of the `diffusionlab` CLI: runs {@link main} and maps errors to exit codes. */
import { DiffusionLabError } from '@diffusionlab/core';
import { formatError, main } from './cli.js';
import { userError } from './io-errors.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`${formatError(e, process.argv.includes('--debug'))}\n`);
    process.exitCode = userError(e) instanceof DiffusionLabError ? 2 : 1;
  },
);
