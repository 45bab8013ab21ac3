/**
 * `file`: a user's own data from CSV/TSV/text, JSON or NumPy .npy. Rows are split once, with a
 * fixed seed, into training rows and held-out rows, so `reference()` measures generalisation to
 * points the model never saw, and the split does not move when the run seed changes. The noise
 * floor's perfect draw comes from rows the reference never uses (see floor-draw.ts).
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { definePlugin } from '@diffusionlab/core';
import { checkDataFile, estimateFileMemory } from './file-limits.js';
import { DataFileError, type NumericTable, parseJsonTable, parseNpyTable } from './parse.js';
import { parseDelimitedFile } from './parse-file.js';
import { datasetFromTable, type FileDataset, type FileOptions, fileOptions } from './table.js';
import { fail } from './util.js';

export { datasetFromTable, type FileDataset, type FileOptions, fileOptions } from './table.js';

/** Reads and parses the file; every failure becomes a ConfigError at `dataset.path` naming the file (and line/column). */
export async function readTable(path: string, format: FileOptions['format']): Promise<NumericTable> {
  const ext = extname(path).toLowerCase();
  const kind = format !== 'auto' ? format : ext === '.npy' ? 'npy' : ext === '.json' ? 'json' : 'csv';
  checkDataFile(path, kind);
  let bytes: Uint8Array = new Uint8Array(0);
  try {
    // Delimited text streams (any size); JSON and .npy are read whole.
    if (kind !== 'csv') bytes = await readFile(path);
    else return await parseDelimitedFile(path);
  } catch (e) {
    if (e instanceof DataFileError) fail('path', `${path}: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    fail('path', `cannot read ${resolve(path)}: ${why}`);
  }
  try {
    if (kind === 'npy') return parseNpyTable(bytes);
    const text = new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
    return parseJsonTable(text);
  } catch (e) {
    if (e instanceof DataFileError) fail('path', `${path}: ${e.message}`);
    throw e;
  }
}

/** A user's own data file as a dataset. */
export const fileDataset = definePlugin({
  kind: 'dataset',
  name: 'file',
  description: 'Your own data from a CSV/TSV/text, JSON or .npy file, with a fixed held-out split for evaluation.',
  options: fileOptions,
  estimateMemory: (options) => estimateFileMemory(options.path, options.format),
  async create(options): Promise<FileDataset> {
    const table = await readTable(options.path, options.format);
    return datasetFromTable(table, options, options.path);
  },
});
