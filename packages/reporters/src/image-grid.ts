/**
 * `image-grid`: generated images ([H, W, C] samples with C = 1 or 3) tiled into a grid, mapped from the
 * dataset's value range (info.range, e.g. [−1, 1]) to 0…255, beside a grid of real images on the same
 * scale, under a title — so image models can be judged by eye against what they should produce. For a
 * conditional run it draws one labelled row per class, so "did it draw the class I asked for" is a glance.
 */
import { definePlugin, type PluginContext, PluginError, type Reporter, runFileOption, type SampleEvent, withDefaults, z } from '@diffusionlab/core';
import { escapeHtml } from './html.js';
import { runPath, writeFileAtomic } from './files.js';
import { finiteRange } from './histogram.js';
import { encodePng } from './png.js';
import { svgToPng } from './render.js';

/** Options of the `image-grid` reporter. */
export const imageGridOptions = z
  .object({
    count: z.number().int().min(1).max(1024).default(64).describe('How many generated images to tile (the first ones).'),
    columns: z.number().int().min(1).optional().describe('Images per row; default ⌈√count⌉.'),
    scale: z.number().int().min(1).max(16).default(4).describe('Each pixel becomes a scale×scale block (small images stay visible).'),
    padding: z.number().int().min(0).max(16).default(1).describe('Gap between images, in source pixels (white).'),
    reference: z.boolean().default(true).describe('Show as many real images beside the generated ones, in a second labelled panel.'),
    byClass: z
      .boolean()
      .default(true)
      .describe(
        'For a conditional run: one row per class, labelled with its name — generated images by requested class, real ones by true class; `columns` images a row (default ⌈count / classes⌉, at most 16).',
      ),
    file: runFileOption('image-grid.png'),
  })
  .strict();

/**
 * Tiles the first `count` images of row-major [n, H, W, C] data into an 8-bit grid. Values map linearly from
 * [lo, hi] to [0, 255] and are clipped, because samplers can overshoot the data range.
 */
export function imageGrid(
  data: Float32Array,
  shape: readonly number[],
  range: [number, number],
  o: { count: number; columns?: number; scale: number; padding: number },
): { pixels: Uint8Array; width: number; height: number; channels: 1 | 3 } {
  const [H, W, C] = shape;
  const n = Math.min(o.count, Math.floor(data.length / (H * W * C)));
  const cols = Math.max(1, Math.min(n, o.columns ?? Math.ceil(Math.sqrt(n))));
  return tileImages(
    data,
    shape,
    range,
    Array.from({ length: n }, (_, i) => i),
    cols,
    o,
  );
}

/**
 * The cells of a one-row-per-class grid: row c holds the indices of the first `perRow` images whose
 * label is c, then null (a blank cell) where the class has fewer. Row-major, classes × perRow cells.
 */
export function classGridCells(labels: Int32Array, classes: number, perRow: number): (number | null)[] {
  const cells: (number | null)[] = new Array(classes * perRow).fill(null);
  const filled = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c >= 0 && c < classes && filled[c] < perRow) cells[c * perRow + filled[c]++] = i;
  }
  return cells;
}

/**
 * Tiles images of row-major [n, H, W, C] data into an 8-bit grid of `cols` columns: cell k shows image
 * cells[k], or stays white when it is null. Values map linearly from [lo, hi] to [0, 255], clipped.
 */
export function tileImages(
  data: Float32Array,
  shape: readonly number[],
  range: [number, number],
  cells: readonly (number | null)[],
  cols: number,
  o: { scale: number; padding: number },
): { pixels: Uint8Array; width: number; height: number; channels: 1 | 3 } {
  const [H, W, C] = shape;
  const size = H * W * C;
  const rows = Math.max(1, Math.ceil(cells.length / cols));
  const p = o.padding;
  const s = o.scale;
  const width = (cols * (W + p) + p) * s;
  const height = (rows * (H + p) + p) * s;
  const channels = C as 1 | 3;
  const pixels = new Uint8Array(width * height * channels).fill(255);
  const [lo, hi] = range;
  const k = 255 / (hi - lo);
  for (let cell = 0; cell < cells.length; cell++) {
    const i = cells[cell];
    if (i === null) continue;
    const ox = (p + (cell % cols) * (W + p)) * s;
    const oy = (p + Math.floor(cell / cols) * (H + p)) * s;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < C; c++) {
          const v = data[i * size + (y * W + x) * C + c];
          const byte = Number.isFinite(v) ? Math.max(0, Math.min(255, Math.round((v - lo) * k))) : 0;
          for (let dy = 0; dy < s; dy++) {
            const row = (oy + y * s + dy) * width;
            for (let dx = 0; dx < s; dx++) pixels[(row + ox + x * s + dx) * channels + c] = byte;
          }
        }
      }
    }
  }
  return { pixels, width, height, channels };
}

/** One labelled grid of a figure. */
export interface GridPanel {
  label: string;
  png: Uint8Array;
  width: number;
  height: number;
}

/** Names written left of the grids, one per grid row, centred on it: `centres` are y offsets from the grids' top, in output pixels. */
export interface RowLabels {
  names: readonly string[];
  centres: readonly number[];
}

/** Vertical centre of each grid row (output pixels from the grid's top) for images of height H at a scale and padding. */
export function gridRowCentres(rows: number, H: number, o: { scale: number; padding: number }): number[] {
  return Array.from({ length: rows }, (_, r) => (o.padding + r * (H + o.padding) + H / 2) * o.scale);
}

const FONT = 'DejaVu Sans';
const TITLE_PX = 28;
const LABEL_PX = 22;
const MARGIN = 20;
const GAP = 40;

/**
 * The figure as SVG: a bold title, then the panels side by side, each under its label. The grids are
 * embedded as PNG data URIs drawn 1:1 with nearest-neighbour sampling, so pixels stay sharp. Sizes are
 * in output pixels (the figure is rasterised at zoom 1; the text sizes match the 2× charts).
 */
export function imageGridSvg(title: string, panels: GridPanel[], rowLabels?: RowLabels): { svg: string; width: number; height: number } {
  const top = MARGIN + TITLE_PX + 16 + LABEL_PX + 10;
  // DejaVu Sans averages ≈ 0.6 em a character; the gutter holds the longest row name.
  const gutter = rowLabels ? Math.ceil(Math.max(...rowLabels.names.map((n) => n.length)) * LABEL_PX * 0.62) + 12 : 0;
  const panelsWidth = gutter + panels.reduce((w, p) => w + p.width, 0) + GAP * (panels.length - 1);
  const titleWidth = Math.ceil(title.length * TITLE_PX * 0.62); // DejaVu Sans Bold averages ≈ 0.6 em a character
  const width = 2 * MARGIN + Math.max(panelsWidth, titleWidth);
  const height = top + Math.max(...panels.map((p) => p.height)) + MARGIN;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${MARGIN}" y="${MARGIN + TITLE_PX}" font-family="${FONT}" font-weight="bold" font-size="${TITLE_PX}" fill="#000">${escapeHtml(title)}</text>`,
  ];
  let x = MARGIN + Math.max(0, (width - 2 * MARGIN - panelsWidth) / 2);
  if (rowLabels) {
    rowLabels.names.forEach((name, r) => {
      const y = top + rowLabels.centres[r] + LABEL_PX * 0.35; // baseline so the text's middle sits on the row's centre
      parts.push(`<text x="${x + gutter - 12}" y="${y}" text-anchor="end" font-family="${FONT}" font-size="${LABEL_PX}" fill="#000">${escapeHtml(name)}</text>`);
    });
    x += gutter;
  }
  for (const p of panels) {
    const href = `data:image/png;base64,${Buffer.from(p.png).toString('base64')}`;
    parts.push(
      `<text x="${x + p.width / 2}" y="${top - 10}" text-anchor="middle" font-family="${FONT}" font-size="${LABEL_PX}" fill="#000">${escapeHtml(p.label)}</text>`,
      `<image x="${x}" y="${top}" width="${p.width}" height="${p.height}" image-rendering="optimizeSpeed" xlink:href="${href}"/>`,
    );
    x += p.width + GAP;
  }
  parts.push('</svg>');
  return { svg: parts.join('\n'), width, height };
}

/** The figure's title: what was sampled, how, and at what size. */
export function imageGridTitle(e: Pick<SampleEvent, 'sampler' | 'n' | 'shape'>, shown: number): string {
  const [H, W] = e.shape;
  return `Generated vs real images (${e.sampler}, ${shown} of n = ${e.n}, ${H}×${W})`;
}

/** The title of the one-row-per-class figure. */
export function imageGridByClassTitle(e: Pick<SampleEvent, 'sampler' | 'n' | 'shape'>, perRow: number): string {
  const [H, W] = e.shape;
  return `Generated vs real images by class (${e.sampler}, ${perRow} per class, n = ${e.n}, ${H}×${W})`;
}

/** Images a row of the one-row-per-class figure holds: `columns`, else ⌈count / classes⌉ capped at 16. */
export function imagesPerClassRow(o: { count: number; columns?: number }, classes: number): number {
  return o.columns ?? Math.min(16, Math.max(1, Math.ceil(o.count / classes)));
}

/** Builds the image-grid reporter; data whose sample shape is not [H, W, 1|3] is skipped (no file). */
function buildImageGridReporter(options: z.output<typeof imageGridOptions>, context: PluginContext): Reporter {
  return {
    name: 'image-grid',
    async onSample(e) {
      if (e.shape.length !== 3 || (e.shape[2] !== 1 && e.shape[2] !== 3)) return;
      const range = e.info.range ?? finiteRange(e.reference);
      if (!(range[1] > range[0])) {
        throw new PluginError(`reporter 'image-grid': the data range [${range.join(', ')}] is empty; cannot map values to pixels`);
      }
      const path = runPath('image-grid', context, options.file);
      const panel = (label: string, data: Float32Array): GridPanel => {
        const g = imageGrid(data, e.shape, range, options);
        return { label, png: encodePng(g.pixels, g.width, g.height, g.channels), width: g.width, height: g.height };
      };
      if (options.byClass && e.labels) {
        const { labels } = e;
        const classes = labels.names.length;
        const perRow = imagesPerClassRow(options, classes);
        const classPanel = (label: string, data: Float32Array, rows: Int32Array): GridPanel => {
          const g = tileImages(data, e.shape, range, classGridCells(rows, classes, perRow), perRow, options);
          return { label, png: encodePng(g.pixels, g.width, g.height, g.channels), width: g.width, height: g.height };
        };
        const panels = [classPanel('generated (requested class)', e.samples, labels.samples)];
        if (options.reference) panels.push(classPanel('real (true class)', e.reference, labels.reference));
        const rowLabels = { names: labels.names, centres: gridRowCentres(classes, e.shape[0], options) };
        const title = options.reference ? imageGridByClassTitle(e, perRow) : imageGridByClassTitle(e, perRow).replace(' vs real images', ' images');
        writeFileAtomic('image-grid', path, await svgToPng(imageGridSvg(title, panels, rowLabels).svg, 1));
        return;
      }
      const size = e.shape[0] * e.shape[1] * e.shape[2];
      const shown = Math.min(options.count, Math.floor(e.samples.length / size));
      const panels = [panel('generated', e.samples)];
      if (options.reference && e.reference.length >= size) panels.push(panel('real', e.reference));
      const title = options.reference ? imageGridTitle(e, shown) : imageGridTitle(e, shown).replace('Generated vs real', 'Generated');
      writeFileAtomic('image-grid', path, await svgToPng(imageGridSvg(title, panels).svg, 1));
    },
  };
}

/** The `image-grid` reporter plugin. */
export const imageGridReporter = definePlugin({
  kind: 'reporter',
  name: 'image-grid',
  description: 'Writes image-grid.png: generated [H, W, C] samples tiled into a grid beside real ones, mapped from the data range to pixels.',
  options: imageGridOptions,
  create: buildImageGridReporter,
});

/**
 * The `image-grid` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createImageGridReporter({ … })`).
 */
export const createImageGridReporter = withDefaults(imageGridReporter.options, buildImageGridReporter, 'reporter');
