/**
 * File helpers shared by reporters: atomic writes and errors that name the file and the reason, so a
 * failing reporter tells the user exactly what to fix (the runner prints the error and keeps the model).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type PluginContext, PluginError, resolveInside } from '@diffusionlab/core';

/**
 * Resolves a reporter's output file inside the run directory (refusing names that escape it, with
 * the option `key`) and announces it to the runner's manifest before it is written; reporters
 * outside a run cannot write files.
 */
export function runPath(reporter: string, context: PluginContext, file: string, runDir: string | undefined = context.runDir, key = 'file'): string {
  if (runDir === undefined) {
    throw new PluginError(`reporter '${reporter}' needs a run directory to write ${file}, but none was given`, {
      hint: 'Use this reporter from `diffusionlab run` or `diffusionlab sample`, which create a run directory.',
    });
  }
  const path = resolveInside(runDir, file, key);
  context.recordOutput?.(path);
  return path;
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
