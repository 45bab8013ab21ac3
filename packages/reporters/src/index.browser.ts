/**
 * @diffusionlab/reporters in a browser (the `browser` export condition): the figures as pure
 * Vega-Lite specs — histogram, scatter, trajectory, loss, schedule and the guidance sweep — with the
 * shared palette and config, so a page draws exactly what the reporters write (e.g. with vega-embed
 * and {@link withFigureConfig}). The reporters themselves write files and render PNGs (resvg, fonts,
 * zlib), so they are Node-only; index.ts has them.
 */
export * from './figure.js';
export * from './guidance-figure.js';
export * from './histogram-spec.js';
export * from './loss-spec.js';
export * from './scatter-spec.js';
export * from './schedule-spec.js';
export * from './trajectory-spec.js';
