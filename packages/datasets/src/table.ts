/**
 * A parsed numeric table as a dataset with a fixed held-out split: the part of the `file` plugin
 * that needs no file system, so a browser can build the same dataset from a dropped file's bytes
 * (parse them with `parseDelimited`, `parseJsonTable` or `parseNpyTable`).
 */
import { type Dataset, Rng, type TrainingSet, z } from '@diffusionlab/core';
import { floorDraw, type FloorPool } from './floor-draw.js';
import type { NumericTable } from './parse.js';
import { columnStats, fail, type Standardization, sampleRows, standardizeInPlace } from './util.js';

const FORMATS = ['auto', 'csv', 'json', 'npy'] as const;

/** Options of the `file` plugin. */
export const fileOptions = z
  .object({
    path: z
      .string({ error: 'must be a file path' })
      .min(1, { error: 'must be a file path' })
      .describe('Data file (.csv/.tsv/.txt, .json or .npy); the runner resolves a relative path against the config file’s folder.'),
    format: z.enum(FORMATS).default('auto').describe('File format; `auto` picks by extension (.npy, .json, anything else is delimited text).'),
    standardize: z.boolean().default(false).describe('Train on (x − mean)/std per column, with mean/std from the training rows; recorded in info.standardization.'),
    holdout: z
      .number()
      .min(0, { error: 'must be between 0 and 0.9' })
      .max(0.9, { error: 'must be between 0 and 0.9' })
      .default(0.1)
      .describe('Fraction of rows held out for evaluation (reference draws); 0 evaluates against the training rows, with a warning.'),
    splitSeed: z
      .number()
      .int({ error: 'must be an integer ≥ 0' })
      .min(0, { error: 'must be an integer ≥ 0' })
      .default(0)
      .describe('Seed (an integer ≥ 0) of the fixed shuffle that picks the held-out rows; independent of the run seed, so the split stays put. Another value gives another split.'),
  })
  .strict();

/** Options of the `file` plugin (after defaults). */
export type FileOptions = z.output<typeof fileOptions>;

/** A dataset read from a file; `warnings` collects what the user should know (e.g. reference drawn with replacement). */
export interface FileDataset extends Dataset {
  readonly warnings: string[];
  /** Rows in the file, in training and held out. */
  readonly rows: { total: number; train: number; heldOut: number };
  /** Column names when the CSV had a header. */
  readonly header?: string[];
}

/** Builds the dataset from an already parsed table (exported for tests and in-memory data). */
export function datasetFromTable(table: NumericTable, options: Omit<FileOptions, 'path' | 'format'>, source = 'table'): FileDataset {
  const { count, shape } = table;
  const D = shape.reduce((a, b) => a * b, 1);
  let heldOut = Math.round(options.holdout * count);
  if (options.holdout > 0 && heldOut === 0) heldOut = 1;
  if (count - heldOut < 1) fail('holdout', `${source} has ${count} row(s); holding out ${heldOut} leaves none to train on`);
  // One fixed permutation picks the held-out rows; training rows keep their file order.
  const perm = new Rng(options.splitSeed).permutation(count);
  const isHeld = new Uint8Array(count);
  for (let k = 0; k < heldOut; k++) isHeld[perm[k]] = 1;
  const train = new Float32Array((count - heldOut) * D);
  const held = new Float32Array(heldOut * D);
  for (let r = 0, a = 0, b = 0; r < count; r++) {
    const row = table.data.subarray(r * D, r * D + D);
    if (isHeld[r]) held.set(row, D * b++);
    else train.set(row, D * a++);
  }
  let stats: Standardization | undefined;
  if (options.standardize) {
    stats = columnStats(train, count - heldOut, D);
    standardizeInPlace(train, stats);
    standardizeInPlace(held, stats);
  }
  const warnings: string[] = [];
  if (heldOut === 0) warnings.push(`${source}: holdout is 0, so evaluation compares against the training rows themselves.`);
  // Reference rows and floor rows never overlap, so the floor is what an independent draw scores:
  // held-out rows serve the reference and training rows the floor; with no held-out rows, a fixed
  // half of the training rows serves the reference and the other half the floor.
  let pool = held;
  let poolRows = heldOut;
  const fromRows = (data: Float32Array, rows: number, what: string): FloorPool => ({
    rows,
    dim: D,
    what,
    copy: (row, out, offset) => out.set(data.subarray(row * D, row * D + D), offset),
  });
  let floorPool = fromRows(train, count - heldOut, 'training rows');
  if (heldOut === 0) {
    const rows = count;
    const half = new Rng(options.splitSeed).fork('floor').permutation(rows);
    const refRows = rows < 2 ? rows : Math.ceil(rows / 2);
    const pick = (from: number, to: number) => {
      const out = new Float32Array((to - from) * D);
      for (let k = from; k < to; k++) out.set(train.subarray(half[k] * D, half[k] * D + D), (k - from) * D);
      return out;
    };
    pool = pick(0, refRows);
    poolRows = refRows;
    floorPool = rows < 2 ? fromRows(pool, refRows, 'rows') : fromRows(pick(refRows, rows), rows - refRows, 'rows outside the reference half');
    if (rows < 2) warnings.push(`${source}: a single row cannot give a reference and an independent floor draw; the noise floor compares the row with itself and means nothing.`);
  }
  return {
    name: 'file',
    shape,
    info: stats ? { standardization: stats } : {},
    warnings,
    rows: { total: count, train: count - heldOut, heldOut },
    ...(table.header ? { header: table.header } : {}),
    load(_rng: Rng): TrainingSet {
      return { data: train.slice(), count: count - heldOut };
    },
    reference(n: number, rng: Rng): Float32Array {
      const { data, replaced } = sampleRows(pool, poolRows, D, n, rng);
      const msg = `${source}: ${n} reference points requested but only ${poolRows} ${heldOut > 0 ? 'held-out' : 'training'} rows exist; drawn with replacement (raise holdout for an honest comparison).`;
      if (replaced && !warnings.includes(msg)) warnings.push(msg);
      return data;
    },
    perfectDraw(n: number, rng: Rng): Float32Array {
      return floorDraw(floorPool, n, rng, warnings, source);
    },
  };
}
