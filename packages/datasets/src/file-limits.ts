/**
 * Size checks for the `file` dataset, made from the file's metadata before it is read: what can be
 * read at all (a regular file; JSON and .npy, read whole, below Node's string and buffer limits),
 * and how much memory parsing it will take, for the runner's memory check.
 */
import { statSync } from 'node:fs';
import type { MemoryEstimate } from '@diffusionlab/core';
import { fail } from './util.js';

/** JSON is decoded into one string, which V8 caps near 512 MiB (2²⁹ characters); refuse well below. */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

/** `.npy` files are read into one buffer; Node's fs.readFile stops at 2 GiB. */
export const MAX_NPY_BYTES = 2 * 1024 * 1024 * 1024 - 1;

/**
 * Peak bytes per file byte while parsing and splitting: numbers as float64 (≈ 2 bytes per text
 * byte for short fields such as `0.5,`), the growing buffer's copy, then float32 training/held-out
 * rows and the training copy `load()` hands out. For .npy float32 the factors are similar.
 */
const BYTES_PER_FILE_BYTE = { csv: 5, json: 6, npy: 5 } as const;

type Kind = 'csv' | 'json' | 'npy';

const kindOf = (path: string, format: string): Kind => {
  if (format !== 'auto') return format as Kind;
  const lower = path.toLowerCase();
  return lower.endsWith('.npy') ? 'npy' : lower.endsWith('.json') ? 'json' : 'csv';
};

/** Refuses a path that is not a regular file, or a JSON/.npy file too large to read whole (ConfigError at dataset.path). */
export function checkDataFile(path: string, kind: Kind): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return; // missing or unreadable: the read reports it with its own reason
  }
  if (st.isDirectory()) fail('path', `cannot read ${path}: it is a directory`);
  if (!st.isFile()) fail('path', `cannot read ${path}: it is not a regular file (a device, pipe or socket); give a data file`);
  if (kind === 'json' && st.size > MAX_JSON_BYTES) {
    fail('path', `${path} is ${(st.size / 2 ** 20).toFixed(0)} MiB; JSON data is read whole and is limited to ${MAX_JSON_BYTES / 2 ** 20} MiB. Save it as CSV (streamed) or .npy`);
  }
  if (kind === 'npy' && st.size > MAX_NPY_BYTES) {
    fail('path', `${path} is ${(st.size / 2 ** 30).toFixed(1)} GiB; .npy files are read whole and are limited to 2 GiB. Save fewer rows or split the data`);
  }
}

/** The memory that reading `path` will take, from its size alone; null when the file cannot be stat'ed (the read reports why). */
export function estimateFileMemory(path: string, format: string): MemoryEstimate | null {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return null;
    size = st.size;
  } catch {
    return null;
  }
  const kind = kindOf(path, format);
  return { bytes: size * BYTES_PER_FILE_BYTE[kind], key: 'path', what: `parsing ${path} (${(size / 2 ** 20).toFixed(1)} MiB of ${kind})` };
}
