/**
 * `schedule`: the noise schedule the run trains with — ᾱₜ and log-SNR λₜ = log(ᾱₜ/(1−ᾱₜ)) (Kingma et al.
 * 2021) against t — written at run start. It makes a bad schedule visible before training: the reference's
 * linear schedule with T = 100 ends at ᾱ_T ≈ 0.36, far from pure noise.
 */
import { definePlugin, type PluginContext, type Reporter, runFileOption, withDefaults, z } from '@diffusionlab/core';
import { runPath, writeFileAtomic } from './files.js';
import { renderPng } from './render.js';
import { scheduleSpec } from './schedule-spec.js';

export * from './schedule-spec.js';

/** Options of the `schedule` reporter. */
export const scheduleOptions = z
  .object({
    file: runFileOption('schedule.png'),
  })
  .strict();

/** Builds the schedule reporter. */
function buildScheduleReporter(options: z.output<typeof scheduleOptions>, context: PluginContext): Reporter {
  return {
    name: 'schedule',
    async onRunStart(e) {
      const path = runPath('schedule', context, options.file, e.runDir ?? context.runDir);
      writeFileAtomic('schedule', path, await renderPng(scheduleSpec(e.schedule)));
    },
  };
}

/** The `schedule` reporter plugin. */
export const scheduleReporter = definePlugin({
  kind: 'reporter',
  name: 'schedule',
  description: "Writes schedule.png at run start: ᾱₜ and log-SNR against t for the run's noise schedule.",
  options: scheduleOptions,
  create: buildScheduleReporter,
});

/**
 * The `schedule` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createScheduleReporter({ … })`).
 */
export const createScheduleReporter = withDefaults(scheduleReporter.options, buildScheduleReporter, 'reporter');
