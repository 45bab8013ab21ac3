/**
 * The `schedule` figure as data: ᾱₜ and log-SNR against t as a Vega-Lite spec. Pure, so a browser
 * draws the same figure; the `schedule` reporter renders it to PNG in Node.
 */
import { logSnr, type NoiseSchedule } from '@diffusionlab/core';
import { type FigureSpec, SERIES_COLORS } from './figure.js';

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
