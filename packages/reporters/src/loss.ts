/**
 * `loss`: the training curve — mean epoch loss against optimiser step — written at the end of the
 * run. A log y-axis is the default because diffusion losses fall fast early and then flatten.
 */
import { definePlugin, type PluginContext, type Reporter, runFileOption, withDefaults, z } from '@diffusionlab/core';
import { runPath, writeFileAtomic } from './files.js';
import { lossSpec } from './loss-spec.js';
import { renderPng } from './render.js';

export * from './loss-spec.js';

/** Options of the `loss` reporter. */
export const lossOptions = z
  .object({
    logScale: z.boolean().default(true).describe('Log-scale y axis (non-positive losses are then left out).'),
    file: runFileOption('loss.png'),
  })
  .strict();

/** Builds the loss reporter. */
function buildLossReporter(options: z.output<typeof lossOptions>, context: PluginContext): Reporter {
  return {
    name: 'loss',
    async onRunEnd(e) {
      if (e.lossHistory.length === 0) return; // nothing trained (closed-form denoiser or `sample`)
      const path = runPath('loss', context, options.file, e.runDir ?? context.runDir);
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
  create: buildLossReporter,
});

/**
 * The `loss` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createLossReporter({ … })`).
 */
export const createLossReporter = withDefaults(lossReporter.options, buildLossReporter, 'reporter');
