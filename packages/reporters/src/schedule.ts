/**
 * `schedule`: the noise schedule the run trains with — ᾱₜ and log-SNR λₜ = log(ᾱₜ/(1−ᾱₜ)) (Kingma et al.
 * 2021) against t — written at run start. It makes a bad schedule visible before training: the reference's
 * linear schedule with T = 100 ends at ᾱ_T ≈ 0.36, far from pure noise.
 */
import { definePlugin, logSnr, type NoiseSchedule, type PluginContext, type Reporter, runFileOption, withDefaults, z } from '@diffusionlab/core';
import { runPath, writeFileAtomic } from './files.js';
import { type FigureSpec, renderPng, SERIES_COLORS } from './render.js';

/** Options of the `schedule` reporter. */
export const scheduleOptions = z
  .object({
    file: runFileOption('schedule.png'),
  })
  .strict();

/** Two panels (ᾱₜ and log-SNR against t) as a Vega-Lite spec; infinite log-SNR end points are left out. */
export function scheduleSpec(s: NoiseSchedule): FigureSpec {
  const T = s.numTrainTimesteps;
  const values = Array.from(s.alphasCumprod, (ab, t) => ({ t, alphaBar: ab, logSnr: logSnr(ab) }));
  const finite = values.filter((v) => Number.isFinite(v.logSnr));
  const abT = s.alphasCumprod[T - 1];
  const panel = (field: string, title: string, color: string, rows: object[]) => ({
    width: 300,
    height: 220,
    data: { values: rows },
    mark: { type: 'line', color, strokeWidth: 2 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'timestep t' },
      y: { field, type: 'quantitative', title },
    },
  });
  return {
    title: { text: `Noise schedule: ${s.name} (T = ${T})`, subtitle: `ᾱ_T = ${Number(abT.toPrecision(4))}` },
    hconcat: [panel('alphaBar', 'ᾱₜ (signal fraction)', SERIES_COLORS.real, values), panel('logSnr', 'log-SNR λₜ', SERIES_COLORS.generated, finite)],
  } as FigureSpec;
}

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
  description: 'Writes schedule.png at run start: ᾱₜ and log-SNR against t for the run\'s noise schedule.',
  options: scheduleOptions,
  create: buildScheduleReporter,
});

/**
 * The `schedule` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createScheduleReporter({ … })`).
 */
export const createScheduleReporter = withDefaults(scheduleReporter.options, buildScheduleReporter, 'reporter');
