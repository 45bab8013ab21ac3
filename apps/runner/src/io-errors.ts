/**
 * File-system failures as one clear message. Node's errors say `ENOSPC: no space left on device,
 * write` without the file, and a recursive `mkdir` on a read-only or full disk says `ENOENT`; a
 * user needs the file, the real reason and what to do, and no stack trace.
 */
import { accessSync, constants, existsSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DiffusionLabError, isDiffusionLabError } from '@diffusionlab/core';

/** A file could not be written or read; the message names the file, the hint says what to do. */
export class FileSystemError extends DiffusionLabError {
  /** The OS error code (ENOSPC, EROFS, EACCES, …), for programs that branch on it. */
  readonly errno: string;
  /** The file or folder the operation was about. */
  readonly path: string;

  constructor(path: string, errno: string, verb: string, options: { cause?: unknown } = {}) {
    super(`cannot ${verb} ${path}: ${REASONS[errno] ?? errno.toLowerCase()} (${errno})`, { code: 'FILE_SYSTEM', hint: HINTS[errno] ?? HINTS.default, cause: options.cause });
    this.errno = errno;
    this.path = path;
  }
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'a folder on the way does not exist',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  EMFILE: 'too many open files',
  EIO: 'input/output error from the device',
};

const HINTS: Record<string, string> = {
  ENOSPC: 'Free space on that disk (or choose another --out); a run with a checkpoint continues with --resume.',
  EDQUOT: 'Free space within your quota (or choose another --out); a run with a checkpoint continues with --resume.',
  EROFS: 'Choose a writable folder with --out.',
  EACCES: 'Choose a folder you can write to with --out, or fix its permissions.',
  EPERM: 'Choose a folder you can write to with --out, or fix its permissions.',
  default: 'Check that the folder exists and is writable and that the disk is not full.',
};

/** A Node system error: has a string `code` such as `ENOSPC` and usually `syscall` and `path`. */
interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
}

function isSystemError(e: unknown): e is SystemError {
  return e instanceof Error && typeof (e as SystemError).code === 'string' && /^E[A-Z]+$/.test((e as SystemError).code) && !isDiffusionLabError(e);
}

/**
 * Wraps a failed file operation on `path` (`verb`: what was being done, e.g. `write`) as a
 * {@link FileSystemError}; anything that is not an OS error is returned unchanged.
 */
export function fileError(e: unknown, path: string, verb = 'write'): unknown {
  if (!isSystemError(e)) return e;
  const code = e.code === 'ENOENT' && (e.syscall === 'mkdir' || verb === 'create') ? diagnoseMissing(path) : e.code;
  return new FileSystemError(path, code, verb, { cause: e });
}

/** Runs `fn`, turning an OS error into a {@link FileSystemError} about `path`. */
export function onFile<T>(path: string, verb: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fileError(e, path, verb);
  }
}

/**
 * The error to show the user: diffusionlab errors as they are, raw OS errors that carry a path
 * (mkdir, open, rename) as a {@link FileSystemError}, anything else (a bug) unchanged.
 */
export function userError(e: unknown): unknown {
  if (!isSystemError(e) || typeof e.path !== 'string') return e;
  const verb = e.syscall === 'mkdir' ? 'create' : e.syscall === 'open' || e.syscall === 'read' ? 'open' : e.syscall === 'rename' ? 'replace' : (e.syscall ?? 'write');
  return fileError(e, e.path, verb);
}

/**
 * Why a path could not be created when Node says ENOENT (recursive mkdir reports ENOENT for a
 * read-only or full disk): the nearest existing ancestor tells — read-only, not writable, full, or
 * not a folder. Reads only; creates nothing.
 */
export function diagnoseMissing(path: string): string {
  let at = dirname(path);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    if (!statSync(at).isDirectory()) return 'ENOTDIR';
    accessSync(at, constants.W_OK);
  } catch (e) {
    return isSystemError(e) ? e.code : 'ENOENT';
  }
  try {
    if (statfsSync(at).bavail === 0) return 'ENOSPC';
  } catch {
    // statfs unsupported here: fall through to the plain answer
  }
  return 'ENOENT';
}
