/**
 * `scatter`: for 2-D data, real and generated points in two panels side by side with identical axes,
 * so missing modes, blur between modes and outliers are visible without overplotting one set on the other.
 */
import { definePlugin, type PluginContext, type Reporter, runFileOption, withDefaults, z } from '@diffusionlab/core';
import { runPath, writeFileAtomic } from './files.js';
import { type FigureSpec, renderPng, SERIES_COLORS } from './render.js';

/** Options of the `scatter` reporter. */
export const scatterOptions = z
  .object({
    maxPoints: z.number().int().min(1).default(2000).describe('At most this many points per panel (the first ones), to keep the figure light.'),
    file: runFileOption('scatter.png'),
  })
  .strict();

/** Rows { x, y, series } from the first `max` points of row-major [n, 2] data. */
export function points2d(data: Float32Array, series: string, max: number): { x: number; y: number; series: string }[] {
  const n = Math.min(max, Math.floor(data.length / 2));
  const out: { x: number; y: number; series: string }[] = [];
  for (let i = 0; i < n; i++) {
    const x = data[2 * i];
    const y = data[2 * i + 1];
    if (Number.isFinite(x) && Number.isFinite(y)) out.push({ x, y, series });
  }
  return out;
}

/** Two scatter panels (real | generated) with shared x and y scales, as a Vega-Lite spec. */
export function scatterSpec(real: Float32Array, generated: Float32Array, maxPoints: number, title: string): FigureSpec {
  return {
    title,
    data: { values: [...points2d(real, 'real', maxPoints), ...points2d(generated, 'generated', maxPoints)] },
    facet: { column: { field: 'series', type: 'nominal', title: null, sort: ['real', 'generated'], header: { labelFontSize: 13 } } },
    spec: {
      width: 300,
      height: 300,
      mark: { type: 'circle', size: 10, opacity: 0.6 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'x₁', scale: { zero: false } },
        y: { field: 'y', type: 'quantitative', title: 'x₂', scale: { zero: false } },
        color: {
          field: 'series',
          type: 'nominal',
          title: null,
          scale: { domain: ['real', 'generated'], range: [SERIES_COLORS.real, SERIES_COLORS.generated] },
        },
      },
    },
  } as FigureSpec;
}

/** Builds the scatter reporter; data that is not 2-D is skipped (no file). */
function buildScatterReporter(options: z.output<typeof scatterOptions>, context: PluginContext): Reporter {
  return {
    name: 'scatter',
    async onSample(e) {
      const D = e.shape.reduce((a, b) => a * b, 1);
      if (D !== 2) return;
      const path = runPath('scatter', context, options.file);
      const title = `Real vs generated (${e.sampler}, n = ${e.n})`;
      writeFileAtomic('scatter', path, await renderPng(scatterSpec(e.reference, e.samples, options.maxPoints, title)));
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
