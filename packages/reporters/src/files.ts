/**
 * File helpers shared by reporters: atomic writes and errors that name the file and the reason, so a
 * failing reporter tells the user exactly what to fix (the runner prints the error and keeps the model).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PluginError } from '@diffusionlab/core';
import { runFileProblem } from './run-file.js';

/**
 * Resolves a reporter's output file inside the run directory; reporters outside a run cannot write
 * files, and a name that would leave the directory is refused (options bypassing the schema included).
 */
export function runPath(reporter: string, runDir: string | undefined, file: string): string {
  if (runDir === undefined) {
    throw new PluginError(`reporter '${reporter}' needs a run directory to write ${file}, but none was given`, {
      hint: 'Use this reporter from `diffusionlab run` or `diffusionlab sample`, which create a run directory.',
    });
  }
  const problem = runFileProblem(file);
  if (problem !== null) {
    throw new PluginError(`reporter '${reporter}': the file option ${problem}`, { hint: 'Give a file name such as figure.png, or a sub-path such as figures/figure.png.' });
  }
  return join(runDir, file);
}

/** Wraps an I/O failure in a PluginError that names the reporter, the path and the OS reason. */
export function writeError(reporter: string, path: string, cause: unknown, verb: 'write' | 'read' = 'write'): PluginError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new PluginError(`reporter '${reporter}' could not ${verb} ${path}: ${reason}`, {
    cause,
    hint: 'Check that the run directory exists, is writable and the disk is not full.',
  });
}

/**
 * Writes a file atomically (temp file in the same directory, then rename), so a crash or a concurrent
 * reader never sees a half-written summary or figure.
 */
export function writeFileAtomic(reporter: string, path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the temp file was never created (e.g. the directory is not a directory): nothing to clean up
    }
    throw writeError(reporter, path, err);
  }
}
