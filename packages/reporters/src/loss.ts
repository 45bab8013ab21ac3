/**
 * `loss`: the training curve — mean epoch loss against optimiser step — written at the end of the
 * run. A log y-axis is the default because diffusion losses fall fast early and then flatten.
 */
import { definePlugin, type PluginContext, type Reporter, type RunEndEvent, z } from '@diffusionlab/core';
import { runPath, writeFileAtomic } from './files.js';
import { type FigureSpec, renderPng, SERIES_COLORS } from './render.js';

/** Options of the `loss` reporter. */
export const lossOptions = z
  .object({
    logScale: z.boolean().default(true).describe('Log-scale y axis (non-positive losses are then left out).'),
    file: z.string().min(1).default('loss.png').describe('File name inside the run directory.'),
  })
  .strict();

/** The loss curve as a Vega-Lite spec; non-finite points (and non-positive ones on a log axis) are dropped. */
export function lossSpec(history: RunEndEvent['lossHistory'], logScale: boolean): FigureSpec {
  const values = history.filter((p) => Number.isFinite(p.loss) && (!logScale || p.loss > 0));
  return {
    title: 'Training loss (mean per epoch)',
    width: 480,
    height: 280,
    data: { values },
    mark: { type: 'line', color: SERIES_COLORS.real, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'loss', type: 'quantitative', title: logScale ? 'loss (log scale)' : 'loss', scale: logScale ? { type: 'log' } : { zero: false } },
    },
  } as FigureSpec;
}

/** Builds the loss reporter. */
export function createLossReporter(options: z.output<typeof lossOptions>, context: PluginContext): Reporter {
  return {
    name: 'loss',
    async onRunEnd(e) {
      if (e.lossHistory.length === 0) return; // nothing trained (closed-form denoiser or `sample`)
      const path = runPath('loss', e.runDir ?? context.runDir, options.file);
      writeFileAtomic('loss', path, await renderPng(lossSpec(e.lossHistory, options.logScale)));
    },
  };
}

/** The `loss` reporter plugin. */
export const lossReporter = definePlugin({
  kind: 'reporter',
  name: 'loss',
  description: 'Writes loss.png: mean epoch loss against training step (log scale by default).',
  options: lossOptions,
  create: createLossReporter,
});
