/**
 * A parsed numeric table as a dataset with a fixed held-out split: the part of the `file` plugin
 * that needs no file system, so a browser can build the same dataset from a dropped file's bytes
 * (parse them with `parseDelimited`, `parseJsonTable` or `parseNpyTable`).
 */
import { type Dataset, type LabeledDraw, Rng, type TrainingSet, z } from '@diffusionlab/core';
import { floorDraw, floorDrawLabeled, type FloorPool } from './floor-draw.js';
import type { NumericTable } from './parse.js';
import { columnStats, fail, type Standardization, sampleIndices, standardizeInPlace } from './util.js';

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
    labelColumn: z
      .union([z.number().int({ error: 'must be a column index ≥ 0 or a header name' }).min(0, { error: 'must be a column index ≥ 0 or a header name' }), z.string().min(1)])
      .optional()
      .describe(
        'Column holding each row’s class (an index from 0, or a CSV header name), for conditional models: it is taken out of the data, and its distinct values, sorted, become the classes.',
      ),
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
export function datasetFromTable(rawTable: NumericTable, options: Omit<FileOptions, 'path' | 'format'>, source = 'table'): FileDataset {
  const { table, rowLabels, labelNames } = splitLabelColumn(rawTable, options.labelColumn, source);
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
  const trainLabels = new Int32Array(count - heldOut);
  const heldLabels = new Int32Array(heldOut);
  for (let r = 0, a = 0, b = 0; r < count; r++) {
    const row = table.data.subarray(r * D, r * D + D);
    if (isHeld[r]) {
      heldLabels[b] = rowLabels?.[r] ?? 0;
      held.set(row, D * b++);
    } else {
      trainLabels[a] = rowLabels?.[r] ?? 0;
      train.set(row, D * a++);
    }
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
  let poolLabels = heldLabels;
  let floorLabels = trainLabels;
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
    poolLabels = Int32Array.from(half.subarray(0, refRows), (r) => trainLabels[r]);
    if (rows >= 2) floorLabels = Int32Array.from(half.subarray(refRows, rows), (r) => trainLabels[r]);
    else floorLabels = poolLabels;
    floorPool = rows < 2 ? fromRows(pool, refRows, 'rows') : fromRows(pick(refRows, rows), rows - refRows, 'rows outside the reference half');
    if (rows < 2) warnings.push(`${source}: a single row cannot give a reference and an independent floor draw; the noise floor compares the row with itself and means nothing.`);
  }
  const labeledReference = (n: number, rng: Rng): LabeledDraw => {
    const { idx, replaced } = sampleIndices(poolRows, n, rng);
    const data = new Float32Array(n * D);
    for (let k = 0; k < n; k++) data.set(pool.subarray(idx[k] * D, idx[k] * D + D), k * D);
    const msg = `${source}: ${n} reference points requested but only ${poolRows} ${heldOut > 0 ? 'held-out' : 'training'} rows exist; drawn with replacement (raise holdout for an honest comparison).`;
    if (replaced && !warnings.includes(msg)) warnings.push(msg);
    return { data, labels: Int32Array.from(idx, (r) => poolLabels[r]) };
  };
  const labeled = labelNames
    ? {
        labelNames,
        labeledReference,
        labeledPerfectDraw: (n: number, rng: Rng) => floorDrawLabeled(floorPool, n, rng, warnings, source, (r) => floorLabels[r]),
      }
    : {};
  return {
    ...labeled,
    name: 'file',
    shape,
    info: stats ? { standardization: stats } : {},
    warnings,
    rows: { total: count, train: count - heldOut, heldOut },
    ...(table.header ? { header: table.header } : {}),
    load(_rng: Rng): TrainingSet {
      return { data: train.slice(), count: count - heldOut, ...(labelNames ? { labels: trainLabels.slice() } : {}) };
    },
    reference(n: number, rng: Rng): Float32Array {
      return labeledReference(n, rng).data;
    },
    perfectDraw(n: number, rng: Rng): Float32Array {
      return floorDraw(floorPool, n, rng, warnings, source);
    },
  };
}

/**
 * Takes the label column (`labelColumn`: an index or a header name) out of a [columns] table: the
 * remaining columns are the data, and each row's label becomes the index of its value among the
 * column's distinct values, sorted. Without `labelColumn` the table is returned as it is.
 */
export function splitLabelColumn(
  table: NumericTable,
  labelColumn: number | string | undefined,
  source: string,
): { table: NumericTable; rowLabels?: Int32Array; labelNames?: string[] } {
  if (labelColumn === undefined) return { table };
  if (table.shape.length !== 1) fail('labelColumn', `${source} has rows of shape [${table.shape.join(', ')}]; a label column needs a 2-D table (rows × columns)`);
  const cols = table.shape[0];
  const col = typeof labelColumn === 'number' ? labelColumn : (table.header?.indexOf(labelColumn) ?? -1);
  if (col < 0)
    fail(
      'labelColumn',
      `${source} has no column named ${JSON.stringify(labelColumn)}${table.header ? ` (columns: ${table.header.join(', ')})` : ' (it has no header row; give the column index instead)'}`,
    );
  if (col >= cols) fail('labelColumn', `is column ${col} but ${source} has ${cols} columns (indices 0–${cols - 1})`);
  if (cols < 2) fail('labelColumn', `${source} has a single column; taking it as labels leaves no data`);
  const values = Array.from({ length: table.count }, (_, r) => table.data[r * cols + col]);
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  const index = new Map(distinct.map((v, k) => [v, k]));
  const data = new Float64Array(table.count * (cols - 1));
  for (let r = 0; r < table.count; r++) {
    for (let j = 0, o = 0; j < cols; j++) if (j !== col) data[r * (cols - 1) + o++] = table.data[r * cols + j];
  }
  const header = table.header?.filter((_, j) => j !== col);
  return {
    table: { data, count: table.count, shape: [cols - 1], ...(header ? { header } : {}) },
    rowLabels: Int32Array.from(values, (v) => index.get(v) as number),
    labelNames: distinct.map(String),
  };
}
