/**
 * `scatter`: for 2-D data, real and generated points in two panels side by side with identical axes,
 * so missing modes, blur between modes and outliers are visible without overplotting one set on the other.
 * For a conditional run the points are coloured by class (true for real, requested for generated).
 */
import { definePlugin, type PluginContext, type Reporter, runFileOption, withDefaults, z } from '@diffusionlab/core';
import { runPath, writeFileAtomic } from './files.js';
import { renderPng } from './render.js';
import { scatterByClassSpec, scatterSpec } from './scatter-spec.js';

export * from './scatter-spec.js';

/** Options of the `scatter` reporter. */
export const scatterOptions = z
  .object({
    maxPoints: z.number().int().min(1).default(2000).describe('At most this many points per panel (the first ones), to keep the figure light.'),
    byClass: z.boolean().default(true).describe('For a conditional run: colour real points by their true class and generated ones by the class requested.'),
    file: runFileOption('scatter.png'),
  })
  .strict();

/** Builds the scatter reporter; data that is not 2-D is skipped (no file). */
function buildScatterReporter(options: z.output<typeof scatterOptions>, context: PluginContext): Reporter {
  return {
    name: 'scatter',
    async onSample(e) {
      const D = e.shape.reduce((a, b) => a * b, 1);
      if (D !== 2) return;
      const path = runPath('scatter', context, options.file);
      const title = `Real vs generated (${e.sampler}, n = ${e.n})`;
      const spec =
        options.byClass && e.labels
          ? scatterByClassSpec(e.reference, e.samples, e.labels, options.maxPoints, `${title}, coloured by class`)
          : scatterSpec(e.reference, e.samples, options.maxPoints, title);
      writeFileAtomic('scatter', path, await renderPng(spec));
    },
  };
}

/** The `scatter` reporter plugin. */
export const scatterReporter = definePlugin({
  kind: 'reporter',
  name: 'scatter',
  description: 'Writes scatter.png for 2-D data: real and generated points side by side on identical axes.',
  options: scatterOptions,
  create: buildScatterReporter,
});

/**
 * The `scatter` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createScatterReporter({ … })`).
 */
export const createScatterReporter = withDefaults(scatterReporter.options, buildScatterReporter, 'reporter');
