/**
 * What every figure shares, as plain data: the Vega-Lite spec type, the two-series palette and the
 * base config (white background, DejaVu Sans, font sizes). Pure, so a browser gets the same look;
 * render.ts applies the config when it renders in Node.
 */
import type { TopLevelSpec } from 'vega-lite';

/** A Vega-Lite specification (re-exported so reporters need not import vega-lite themselves). */
export type FigureSpec = TopLevelSpec;

/** The two-series palette (real vs generated) used by every figure, so colours mean the same thing everywhere. */
export const SERIES_COLORS = { real: '#4c78a8', generated: '#f58518' } as const;

/**
 * The colour scale of class-coloured figures: one fixed colour per class name, in class order, so a
 * class looks the same in every panel (Tableau 10 up to ten classes, Category 20 beyond).
 */
export function classColorScale(names: readonly string[]): { domain: string[]; scheme: string } {
  return { domain: [...names], scheme: names.length <= 10 ? 'tableau10' : 'category20' };
}

/** Defaults applied to every figure, so all reporters share one look (white background, DejaVu Sans). */
export const FIGURE_CONFIG = {
  background: 'white',
  font: 'DejaVu Sans',
  title: { fontSize: 14 },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
} as const;

/**
 * The spec with {@link FIGURE_CONFIG} under its own `config` (the spec's keys win), as render.ts
 * draws it: pass this to vega-embed in a page to get the figure the PNG shows.
 */
export function withFigureConfig(spec: FigureSpec): FigureSpec {
  return { ...spec, config: { ...FIGURE_CONFIG, ...(spec as { config?: object }).config } } as FigureSpec;
}
