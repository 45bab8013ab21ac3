/**
 * `class-diversity`: how varied the samples of one requested class are, relative to real data of that
 * class — the other side of guidance's trade-off (Ho & Salimans 2022, §4: a larger guidance scale buys
 * class fidelity at the price of sample diversity). For each class c, the mean distance between two
 * distinct samples,
 *
 *   D(c) = E‖X − X'‖,  X, X' i.i.d. within class c,
 *
 * is estimated by the U-statistic over distinct pairs (the within-set term of the energy distance,
 * Székely & Rizzo 2013, eq. 1.1) for the generated samples requested as c and for the reference samples
 * of true class c, and the metric reports their ratio
 *
 *   r(c) = D_generated(c) / D_reference(c),   value = mean of r(c) over the requested classes.
 *
 * 1 means as diverse as the data; guidance pushing samples toward a class's most typical points drives
 * it below 1; a mode-collapsed class scores near 0. Real data with its true classes scores ≈ 1 (its noise
 * floor). Above 1 means samples spread wider than the data within a class — not better: read it beside
 * a distance such as `energy`, which catches over-dispersion.
 */
import { definePlugin, type Metric, PluginError, z } from '@diffusionlab/core';
import { checkLabelNames, gatherRows, requireLabels, rowsByClass } from './class-labels.js';
import { forEachDistanceBlock } from './pairwise.js';
import { metricRng, prepare, subsampleRows } from './util.js';

/** Mean Euclidean distance over distinct pairs of the rows of a [n, d] array (n ≥ 2): the unbiased U-statistic for E‖X − X'‖. */
export function meanPairwiseDistance(x: Float32Array, d: number): number {
  const n = x.length / d;
  if (n < 2) throw new RangeError(`mean pairwise distance needs at least 2 points, got ${n}`);
  let total = 0;
  forEachDistanceBlock(x, x, d, true, (i0, rows, _jStart, out) => {
    for (let r = 0; r < rows; r++) for (let j = i0 + r + 1; j < n; j++) total += Math.sqrt(out[r * n + j]);
  });
  return (2 * total) / (n * (n - 1));
}

/** Options of the `class-diversity` metric. */
export const classDiversityOptions = z
  .object({
    maxPerClass: z
      .number()
      .int()
      .min(2)
      .default(500)
      .describe('Each class’s generated and reference points are subsampled (seeded, without replacement) to at most this many; cost is O(classes·maxPerClass²·D).'),
    seed: z.number().int().min(0).optional().describe('Fixes the subsamples independently of the run seed (default: derived from the run seed).'),
  })
  .strict();

/**
 * The `class-diversity` metric: value = mean over requested classes of D_generated(c) / D_reference(c)
 * (1 = as diverse as the data). details: `classDiversityPerClass` (r(c) in class order; NaN for a class
 * with fewer than two samples), `classDiversityGenerated` and `classDiversityReference` (D(c) of each set).
 */
export const classDiversityMetric = definePlugin({
  kind: 'metric',
  name: 'class-diversity',
  description: 'Conditional runs: mean distance between samples of one requested class over that of real data of the class (1 = as diverse as the data; guidance lowers it).',
  options: classDiversityOptions,
  create(options): Metric {
    const name = 'class-diversity';
    return {
      name,
      // The failure it exists to show is lost diversity (ratio toward 0); over-dispersion is the distances' job.
      higherIsBetter: true,
      check(ctx) {
        checkLabelNames(name, ctx.labelNames);
      },
      compute(generated, reference, ctx) {
        const { d, n, m, early } = prepare(name, generated, reference, ctx);
        const labels = requireLabels(name, ctx, n, m);
        if (early) return early;
        const classes = labels.names.length;
        const rng = metricRng(ctx, name, options.seed);
        const genRows = rowsByClass(labels.samples, classes);
        const refRows = rowsByClass(labels.reference, classes);
        const gen: number[] = [];
        const ref: number[] = [];
        const ratio: number[] = [];
        for (let c = 0; c < classes; c++) {
          if (genRows[c].length >= 2 && refRows[c].length < 2) {
            throw new PluginError(
              `Metric "${name}": class ${c} (${JSON.stringify(labels.names[c])}) was requested but the reference has ${refRows[c].length} point(s) of it; its diversity needs at least 2.`,
              { hint: 'Draw a larger reference (evaluation.samples).' },
            );
          }
          const within = (data: Float32Array, rows: number[], which: string) =>
            rows.length < 2 ? Number.NaN : meanPairwiseDistance(subsampleRows(gatherRows(data, d, rows), d, options.maxPerClass, rng.fork(`${which}-${c}`)), d);
          const g = within(generated, genRows[c], 'generated');
          const r = within(reference, refRows[c], 'reference');
          gen.push(g);
          ref.push(r);
          ratio.push(Number.isNaN(g) ? Number.NaN : r > 0 ? g / r : g === 0 ? 1 : Number.POSITIVE_INFINITY);
        }
        const used = ratio.filter((v) => !Number.isNaN(v));
        if (used.length === 0) {
          throw new PluginError(`Metric "${name}": no requested class has two or more samples, so no within-class diversity can be measured.`, {
            hint: 'Generate more samples per class (evaluation.samples).',
          });
        }
        return {
          value: used.reduce((a, b) => a + b, 0) / used.length,
          details: { classDiversityPerClass: ratio, classDiversityGenerated: gen, classDiversityReference: ref },
        };
      },
    };
  },
});
