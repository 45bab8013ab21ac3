/**
 * The `file` dataset for a page: the same plugin name, options and split as Node's `file`, reading
 * the bytes of files the user dropped instead of a path on disk. A config exported from the page
 * names the file by its name (`path: data.csv`), which `diffusionlab run` resolves next to the
 * config, so the same config runs in both places.
 */
import { type AnyPluginDefinition, definePlugin } from '@diffusionlab/core';
import { DataFileError, type NumericTable, parseDelimited, parseJsonTable, parseNpyTable } from './parse.js';
import { datasetFromTable, type FileDataset, type FileOptions, fileOptions } from './table.js';
import { fail } from './util.js';

/** Parses a data file's bytes by `format` (`auto`: by the name's extension, as Node's `file` does). */
export function tableFromBytes(bytes: Uint8Array, name: string, format: FileOptions['format']): NumericTable {
  const ext = /\.[^./\\]+$/.exec(name)?.[0].toLowerCase() ?? '';
  const kind = format !== 'auto' ? format : ext === '.npy' ? 'npy' : ext === '.json' ? 'json' : 'csv';
  try {
    if (kind === 'npy') return parseNpyTable(bytes);
    const text = new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
    return kind === 'json' ? parseJsonTable(text) : parseDelimited(text);
  } catch (e) {
    if (e instanceof DataFileError) fail('path', `${name}: ${e.message}`);
    throw e;
  }
}

/**
 * The `file` dataset over in-memory files: `read(path)` gives the bytes the user provided under that
 * name, or undefined (then the error asks for the file).
 */
export function fileDatasetFromBytes(read: (path: string) => Uint8Array | undefined): AnyPluginDefinition {
  return definePlugin({
    kind: 'dataset',
    name: 'file',
    description: 'Your own data from a CSV/TSV/text, JSON or .npy file you drop on the page, with a fixed held-out split for evaluation.',
    options: fileOptions,
    create(options): FileDataset {
      const bytes = read(options.path);
      if (!bytes) fail('path', `${options.path} is not loaded in this page: drop the file (or choose it) again`);
      return datasetFromTable(tableFromBytes(bytes, options.path, options.format), options, options.path);
    },
  });
}

/** The config slot of a dropped data file (`{ use: file, path: <its name> }`). */
export function fileSlot(name: string): { use: string; options: { path: string } } {
  return { use: 'file', options: { path: name } };
}
