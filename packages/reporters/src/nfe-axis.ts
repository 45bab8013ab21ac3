/**
 * The x axis of the sweep figure when it plots against NFE. A log scale suits step counts (20, 50,
 * 1000 read evenly), but Vega-Lite's default log axis ticks only powers of ten, so a sweep over
 * 20–99 NFE or 20–1000 NFE showed few or no labelled ticks near its points. This axis ticks and
 * labels exactly the NFE values measured, on a tight domain, and says it is a log scale.
 */

/** Fraction of padding (in log space, as a factor) on each side, so end points are not clipped. */
const PAD = 1.15;

/** A Vega-Lite x encoding for field `x` holding NFE values: log scale, one labelled tick per measured value. */
export function nfeAxis(nfes: readonly number[]): Record<string, unknown> {
  const ticks = [...new Set(nfes.filter((v) => Number.isFinite(v) && v > 0))].sort((a, b) => a - b);
  const lo = ticks.length > 0 ? ticks[0] / PAD : 1;
  const hi = ticks.length > 0 ? ticks[ticks.length - 1] * PAD : 10;
  return {
    field: 'x',
    type: 'quantitative',
    title: 'NFE (model evaluations per sample, log scale)',
    scale: { type: 'log', domain: [lo, hi], nice: false },
    axis: { values: ticks, format: 'd', labelOverlap: 'greedy', grid: true },
  };
}
