/**
 * `trajectory`: how samples move during the reverse process — snapshots from noise to data as small
 * multiples (histograms for 1-D data, scatters for 2-D), each titled with its sampler step and timestep.
 */
import { definePlugin, type PluginContext, type Reporter, runFileOption, withDefaults, z } from '@diffusionlab/core';
import { runPath, writeFileAtomic } from './files.js';
import { renderPng } from './render.js';
import { trajectorySpec } from './trajectory-spec.js';

export * from './trajectory-spec.js';

/** Options of the `trajectory` reporter. */
export const trajectoryOptions = z
  .object({
    panels: z.number().int().min(2).max(24).default(6).describe('At most this many snapshots, evenly spaced, always including the first and the last.'),
    columns: z.number().int().min(1).max(12).default(3).describe('At most this many panels per row; rows are balanced (4 panels at 3 → 2 × 2).'),
    bins: z.number().int().min(1).max(1000).default(40).describe('Histogram bins (1-D data), shared by all panels.'),
    maxPoints: z.number().int().min(1).default(1000).describe('At most this many points per scatter panel (2-D data).'),
    file: runFileOption('trajectory.png'),
  })
  .strict();

/** Builds the trajectory reporter; events without snapshots, or data that is not 1-D or 2-D, write nothing. */
function buildTrajectoryReporter(options: z.output<typeof trajectoryOptions>, context: PluginContext): Reporter {
  return {
    name: 'trajectory',
    async onSample(e) {
      const spec = trajectorySpec(e, options);
      if (spec === undefined) return;
      const path = runPath('trajectory', context, options.file);
      writeFileAtomic('trajectory', path, await renderPng(spec));
    },
  };
}

/** The `trajectory` reporter plugin. */
export const trajectoryReporter = definePlugin({
  kind: 'reporter',
  name: 'trajectory',
  description: 'Writes trajectory.png: snapshots of the reverse process as small-multiple histograms (1-D) or scatters (2-D).',
  options: trajectoryOptions,
  create: buildTrajectoryReporter,
});

/**
 * The `trajectory` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createTrajectoryReporter({ … })`).
 */
export const createTrajectoryReporter = withDefaults(trajectoryReporter.options, buildTrajectoryReporter, 'reporter');
