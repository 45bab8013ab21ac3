/**
 * @diffusionlab/reporters: what a run leaves behind for people — console output, streamed logs, a
 * summary for sweeps, figures (PNG via Vega-Lite + resvg) and a self-contained HTML report. Reporters
 * receive plain data only, never tensors.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { consoleReporter } from './console.js';
import { csvReporter } from './csv.js';
import { histogramReporter } from './histogram.js';
import { htmlReporter } from './html.js';
import { imageGridReporter } from './image-grid.js';
import { jsonlReporter } from './jsonl.js';
import { lossReporter } from './loss.js';
import { scatterReporter } from './scatter.js';
import { scheduleReporter } from './schedule.js';
import { summaryReporter } from './summary.js';
import { trajectoryReporter } from './trajectory.js';

export * from './index.browser.js';
export * from './console.js';
export * from './csv.js';
export * from './csv-cell.js';
export * from './files.js';
export * from './histogram.js';
export * from './html.js';
export * from './image-grid.js';
export * from './jsonl.js';
export * from './loss.js';
export * from './nfe-axis.js';
export * from './png.js';
export * from './render.js';
export * from './scatter.js';
export * from './schedule.js';
export * from './stream.js';
export * from './summary.js';
export * from './sweep-figure.js';
export * from './sweep-table.js';
export * from './trajectory.js';

/** Every reporter plugin in this package; `html` is last so it can embed the figures the others write. */
export const plugins: AnyPluginDefinition[] = [
  consoleReporter,
  summaryReporter,
  jsonlReporter,
  csvReporter,
  histogramReporter,
  scatterReporter,
  trajectoryReporter,
  lossReporter,
  scheduleReporter,
  imageGridReporter,
  htmlReporter,
];
