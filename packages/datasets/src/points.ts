/**
 * `points`: a small dataset written inline in the config, as a list of rows (numbers for 1-D data,
 * equal-length lists of numbers otherwise). It is how points drawn with the mouse in the playground
 * become a config that `diffusionlab run` accepts, and a quick way to try a handful of points
 * without a data file. The rows get the `file` dataset's treatment (a fixed held-out split for
 * evaluation, optional standardisation), through the same {@link datasetFromTable}.
 */
import { definePlugin, z } from '@diffusionlab/core';
import type { NumericTable } from './parse.js';
import { datasetFromTable, type FileDataset, fileOptions } from './table.js';
import { fail } from './util.js';

/** Inline points are for small sets; larger data belongs in a file (the config stays readable and fast to parse). */
export const POINTS_MAX_ROWS = 100_000;

/** Options of the `points` plugin. */
export const pointsOptions = z
  .object({
    points: z
      .array(z.union([z.number(), z.array(z.number()).min(1, { error: 'a row needs at least one number' })]), {
        error: 'must be a list of rows: numbers (1-D) or lists of numbers',
      })
      .min(2, { error: 'needs at least 2 rows' })
      .max(POINTS_MAX_ROWS, { error: `at most ${POINTS_MAX_ROWS} rows; put larger data in a file (dataset use: file)` })
      .describe('The data rows: numbers for 1-D data (e.g. [0.5, 1.2]) or equal-length lists (e.g. [[0, 1], [1, 0.5]]).'),
    standardize: fileOptions.shape.standardize,
    holdout: fileOptions.shape.holdout,
    splitSeed: fileOptions.shape.splitSeed,
  })
  .strict();

/** Options of the `points` plugin (after defaults). */
export type PointsOptions = z.output<typeof pointsOptions>;

/** The rows as a numeric table; a ragged or non-finite row is refused at its index. */
export function pointsTable(points: PointsOptions['points']): NumericTable {
  const width = Array.isArray(points[0]) ? points[0].length : 1;
  const data = new Float64Array(points.length * width);
  points.forEach((row, i) => {
    const values = Array.isArray(row) ? row : [row];
    if (values.length !== width || Array.isArray(row) !== Array.isArray(points[0])) {
      fail(
        `points[${i}]`,
        `has ${values.length} value(s) as ${Array.isArray(row) ? 'a list' : 'a number'}; row 0 has ${width} as ${Array.isArray(points[0]) ? 'a list' : 'a number'}: every row must have the same shape`,
      );
    }
    values.forEach((v, j) => {
      if (!Number.isFinite(v)) fail(`points[${i}]`, `value ${j} is ${v}; every value must be a finite number`);
      data[i * width + j] = v;
    });
  });
  return { data, count: points.length, shape: [width] };
}

/** Inline data rows as a dataset. */
export const pointsDataset = definePlugin({
  kind: 'dataset',
  name: 'points',
  description: 'A few data rows written inline in the config (e.g. points drawn in the playground), with a fixed held-out split for evaluation.',
  options: pointsOptions,
  create(options): FileDataset {
    const { points, ...rest } = options;
    return { ...datasetFromTable(pointsTable(points), rest, 'dataset.points'), name: 'points' };
  },
});

/** The config slot for inline rows (`{ use: points, points }`): what a page writes for points drawn with the mouse. */
export function pointsSlot(rows: PointsOptions['points']): { use: string; options: { points: PointsOptions['points'] } } {
  return { use: pointsDataset.name, options: { points: rows } };
}
