/**
 * `histogram`: the reference's figure — real vs generated 1-D data as density histograms — but
 * overlaid on shared axes with the same bins, which shows mismatched modes and widths at a glance.
 * For a conditional run, one such panel per class (true class for real, requested for generated).
 */
import { definePlugin, type PluginContext, PluginError, type Reporter, runFileOption, withDefaults, z } from '@diffusionlab/core';
import { runPath, writeFileAtomic } from './files.js';
import { column, histogramByClassSpec, histogramSpec } from './histogram-spec.js';
import { renderPng } from './render.js';

export * from './histogram-spec.js';

/** Options of the `histogram` reporter. */
export const histogramOptions = z
  .object({
    bins: z.number().int().min(1).max(1000).default(50).describe('Number of equal-width bins shared by both series.'),
    file: runFileOption('histogram.png'),
    byClass: z.boolean().default(true).describe('For a conditional run: one panel per class, real values of that true class over generated values of that requested class.'),
    dimension: z.number().int().min(0).optional().describe('For data with D > 1 values per sample: which coordinate to histogram. Unset: skip (no file) when D > 1.'),
  })
  .strict();

/** Builds the histogram reporter. */
function buildHistogramReporter(options: z.output<typeof histogramOptions>, context: PluginContext): Reporter {
  return {
    name: 'histogram',
    async onSample(e) {
      const D = e.shape.reduce((a, b) => a * b, 1);
      let dim = 0;
      if (D > 1) {
        if (options.dimension === undefined) return;
        if (options.dimension >= D) {
          throw new PluginError(`reporter 'histogram': dimension ${options.dimension} is out of range for data with D = ${D} values per sample`);
        }
        dim = options.dimension;
      }
      const path = runPath('histogram', context, options.file);
      const suffix = D > 1 ? ` (dimension ${dim})` : '';
      const title = `Real vs generated (${e.sampler}, n = ${e.n})${suffix}`;
      const real = column(e.reference, D, dim);
      const generated = column(e.samples, D, dim);
      const spec =
        options.byClass && e.labels ? histogramByClassSpec(real, generated, e.labels, options.bins, `${title}, by class`) : histogramSpec(real, generated, options.bins, title);
      const png = await renderPng(spec);
      writeFileAtomic('histogram', path, png);
    },
  };
}

/** The `histogram` reporter plugin. */
export const histogramReporter = definePlugin({
  kind: 'reporter',
  name: 'histogram',
  description: 'Writes histogram.png: real vs generated 1-D data, overlaid density histograms on shared bins.',
  options: histogramOptions,
  create: buildHistogramReporter,
});

/**
 * The `histogram` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createHistogramReporter({ … })`).
 */
export const createHistogramReporter = withDefaults(histogramReporter.options, buildHistogramReporter, 'reporter');
