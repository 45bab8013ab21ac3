/**
 * `image-grid`: generated images ([H, W, C] samples with C = 1 or 3) tiled into one PNG, mapped from the
 * dataset's value range (info.range, e.g. [−1, 1]) to 0…255, so image models can be judged by eye.
 */
import { definePlugin, type PluginContext, PluginError, type Reporter, z } from '@diffusionlab/core';
import { runPath, writeFileAtomic } from './files.js';
import { finiteRange } from './histogram.js';
import { encodePng } from './png.js';

/** Options of the `image-grid` reporter. */
export const imageGridOptions = z
  .object({
    count: z.number().int().min(1).max(1024).default(64).describe('How many generated images to tile (the first ones).'),
    columns: z.number().int().min(1).optional().describe('Images per row; default ⌈√count⌉.'),
    scale: z.number().int().min(1).max(16).default(4).describe('Each pixel becomes a scale×scale block (small images stay visible).'),
    padding: z.number().int().min(0).max(16).default(1).describe('Gap between images, in source pixels (white).'),
    reference: z.boolean().default(false).describe('Also write the real images as `<file>-real.png` beside the generated grid.'),
    file: z.string().min(1).default('images.png').describe('File name inside the run directory.'),
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
  const size = H * W * C;
  const n = Math.min(o.count, Math.floor(data.length / size));
  const cols = Math.max(1, Math.min(n, o.columns ?? Math.ceil(Math.sqrt(n))));
  const rows = Math.max(1, Math.ceil(n / cols));
  const p = o.padding;
  const s = o.scale;
  const width = (cols * (W + p) + p) * s;
  const height = (rows * (H + p) + p) * s;
  const channels = C as 1 | 3;
  const pixels = new Uint8Array(width * height * channels).fill(255);
  const [lo, hi] = range;
  const k = 255 / (hi - lo);
  for (let i = 0; i < n; i++) {
    const ox = (p + (i % cols) * (W + p)) * s;
    const oy = (p + Math.floor(i / cols) * (H + p)) * s;
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

/** Builds the image-grid reporter; data whose sample shape is not [H, W, 1|3] is skipped (no file). */
export function createImageGridReporter(options: z.output<typeof imageGridOptions>, context: PluginContext): Reporter {
  return {
    name: 'image-grid',
    onSample(e) {
      if (e.shape.length !== 3 || (e.shape[2] !== 1 && e.shape[2] !== 3)) return;
      const range = e.info.range ?? finiteRange(e.reference);
      if (!(range[1] > range[0])) {
        throw new PluginError(`reporter 'image-grid': the data range [${range.join(', ')}] is empty; cannot map values to pixels`);
      }
      const path = runPath('image-grid', context.runDir, options.file);
      const write = (data: Float32Array, to: string) => {
        const g = imageGrid(data, e.shape, range, options);
        writeFileAtomic('image-grid', to, encodePng(g.pixels, g.width, g.height, g.channels));
      };
      write(e.samples, path);
      if (options.reference) write(e.reference, path.replace(/(\.png)?$/i, '-real.png'));
    },
  };
}

/** The `image-grid` reporter plugin. */
export const imageGridReporter = definePlugin({
  kind: 'reporter',
  name: 'image-grid',
  description: 'Writes images.png: generated [H, W, C] samples tiled into a grid, mapped from the data range to pixels.',
  options: imageGridOptions,
  create: createImageGridReporter,
});
