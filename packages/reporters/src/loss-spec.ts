/**
 * The `loss` figure as data: the training-loss curve (log scale by default) as a Vega-Lite spec.
 * Pure, so a browser can draw the live curve; the `loss` reporter renders it to PNG in Node.
 */
import type { RunEndEvent } from '@diffusionlab/core';
import { type FigureSpec, SERIES_COLORS } from './figure.js';

/**
 * A log-axis domain around [lo, hi] with ends on the 1-2-5 ladder (…, 0.2, 0.5, 1, 2, 5, …): tight enough
 * that a curve spanning less than a decade fills the plot (Vega's "nice" would widen 0.4–0.8 to 0.1–1), yet
 * with round, labelled ends.
 */
export function logDomain(lo: number, hi: number): [number, number] {
  const ladder = (v: number, up: boolean) => {
    const e = Math.floor(Math.log10(v));
    const steps = [1, 2, 5, 10].map((m) => m * 10 ** e);
    const pick = up ? steps.find((s) => s >= v * (1 - 1e-12)) : [...steps].reverse().find((s) => s <= v * (1 + 1e-12));
    return Number((pick ?? v).toPrecision(12));
  };
  return [ladder(lo, false), ladder(hi, true)];
}

/** The loss curve as a Vega-Lite spec; non-finite points (and non-positive ones on a log axis) are dropped. */
export function lossSpec(history: RunEndEvent['lossHistory'], logScale: boolean): FigureSpec {
  const values = history.filter((p) => Number.isFinite(p.loss) && (!logScale || p.loss > 0));
  const losses = values.map((p) => p.loss);
  const lastStep = values.reduce((m, p) => Math.max(m, p.step), 0);
  const y = logScale && values.length > 0 ? { type: 'log', domain: logDomain(Math.min(...losses), Math.max(...losses)), nice: false } : { zero: false };
  return {
    title: 'Training loss (mean per epoch)',
    width: 480,
    height: 280,
    data: { values },
    // Short runs log few epochs: mark them, so three points do not read as a continuous curve.
    mark: { type: 'line', color: SERIES_COLORS.real, strokeWidth: 1.5, clip: true, point: values.length <= 30 },
    encoding: {
      // x ends at the last step rather than the next round number past it.
      x: { field: 'step', type: 'quantitative', title: 'step', scale: { domain: [0, Math.max(lastStep, 1)], nice: false } },
      y: { field: 'loss', type: 'quantitative', title: logScale ? 'loss (log scale)' : 'loss', scale: y },
    },
  } as FigureSpec;
}
