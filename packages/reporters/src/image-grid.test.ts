import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createImageGridReporter, imageGrid, imageGridOptions, imageGridSvg, imageGridTitle } from './image-grid.js';
import { crc32, encodePng, PNG_SIGNATURE } from './png.js';
import { ctx, expectPng, sampleEvent, tempDir } from './test-fixtures.js';

/** Decodes the IDAT of a PNG written by encodePng (filter 0 rows) back to raw pixels. */
function decode(buf: Buffer): { width: number; height: number; colorType: number; pixels: Uint8Array } {
  expect(buf.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const colorType = buf[25];
  const ch = colorType === 0 ? 1 : 3;
  const idatLen = buf.readUInt32BE(33);
  expect(buf.toString('ascii', 37, 41)).toBe('IDAT');
  const raw = inflateSync(buf.subarray(41, 41 + idatLen));
  const pixels = new Uint8Array(width * height * ch);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width * ch + 1)]).toBe(0);
    pixels.set(raw.subarray(y * (width * ch + 1) + 1, (y + 1) * (width * ch + 1)), y * width * ch);
  }
  return { width, height, colorType, pixels };
}

describe('png encoder', () => {
  it('computes the standard CRC-32 check value', () => {
    expect(crc32(Buffer.from('123456789', 'ascii'))).toBe(0xcbf43926);
    // IEND's CRC is a fixed, published constant.
    expect(crc32(Buffer.from('IEND', 'ascii'))).toBe(0xae426082);
  });

  it('round-trips pixels through deflate', () => {
    const px = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 10);
    const d = decode(encodePng(px, 3, 2, 3));
    expect([d.width, d.height, d.colorType]).toEqual([3, 2, 2]);
    expect(Array.from(d.pixels)).toEqual(Array.from(px));
    expect(() => encodePng(px, 4, 2, 3)).toThrow(RangeError);
  });
});

describe('image-grid', () => {
  it('maps the data range to 0…255 with clipping and tiles images with padding', () => {
    // Two 1×2 grey images: [-1, 1] and [0, 3]; range [-1, 1], no scaling, padding 1, two columns.
    const g = imageGrid(Float32Array.from([-1, 1, 0, 3]), [1, 2, 1], [-1, 1], { count: 2, scale: 1, padding: 1, columns: 2 });
    expect([g.width, g.height, g.channels]).toEqual([7, 3, 1]);
    const row = Array.from(g.pixels.subarray(7, 14));
    expect(row).toEqual([255, 0, 255, 255, 128, 255, 255]);
    expect(Array.from(g.pixels.subarray(0, 7))).toEqual(Array(7).fill(255));
  });

  it('writes image-grid.png: a titled figure with the generated grid beside the real one, nothing for other shapes', async () => {
    const dir = tempDir();
    const shape = [4, 4, 1];
    const n = 10;
    const data = Float32Array.from({ length: n * 16 }, (_, i) => ((i % 16) / 15) * 2 - 1);
    const real = data.map((v) => -v);
    const r = createImageGridReporter(imageGridOptions.parse({ scale: 2 }), ctx(dir));
    await r.onSample?.(sampleEvent());
    expect(readdirSync(dir)).toEqual([]);
    const e = sampleEvent({ shape, samples: data, reference: real, n, info: { range: [-1, 1] } });
    await r.onSample?.(e);
    expect(readdirSync(dir)).toEqual(['image-grid.png']);

    // The figure embeds each grid losslessly: decode the generated panel back to pixels.
    const g = imageGrid(data, shape, [-1, 1], { count: 64, scale: 2, padding: 1 });
    const gridPng = encodePng(g.pixels, g.width, g.height, g.channels);
    const rg = imageGrid(real, shape, [-1, 1], { count: 64, scale: 2, padding: 1 });
    const fig = imageGridSvg(imageGridTitle(e, 10), [
      { label: 'generated', png: gridPng, width: g.width, height: g.height },
      { label: 'real', png: encodePng(rg.pixels, rg.width, rg.height, 1), width: rg.width, height: rg.height },
    ]);
    const uris = [...fig.svg.matchAll(/xlink:href="data:image\/png;base64,([^"]+)"/g)].map((m) => Buffer.from(m[1], 'base64'));
    expect(uris).toHaveLength(2);
    const d = decode(uris[0]);
    // ⌈√10⌉ = 4 columns, 3 rows, (4·(4+1)+1)·2 = 42 by (3·5+1)·2 = 32.
    expect([d.width, d.height, d.colorType]).toEqual([42, 32, 0]);
    expect(d.pixels[2 * 42 + 2]).toBe(0); // first pixel of the first generated image: value −1
    expect(decode(uris[1]).pixels[2 * 42 + 2]).toBe(255); // the real one is the negative: +1
    expect(fig.svg).toContain('>Generated vs real images (ddpm, 10 of n = 10, 4×4)</text>');
    expect(fig.svg).toContain('>generated</text>');
    expect(fig.svg).toContain('>real</text>');
    const written = expectPng(join(dir, 'image-grid.png'), 1_000);
    expect(written).toEqual({ width: fig.width, height: fig.height });
    expect(fig.width).toBeGreaterThan(2 * 42 + 40);
  });

  it('shows only the generated grid when reference is off', async () => {
    const dir = tempDir();
    const data = new Float32Array(4 * 16);
    await createImageGridReporter(imageGridOptions.parse({ reference: false }), ctx(dir)).onSample?.(
      sampleEvent({ shape: [4, 4, 1], samples: data, reference: data, n: 4, info: { range: [-1, 1] } }),
    );
    const { width } = expectPng(join(dir, 'image-grid.png'), 1_000);
    const g = imageGrid(data, [4, 4, 1], [-1, 1], { count: 64, scale: 4, padding: 1 });
    const fig = imageGridSvg('Generated images (ddpm, 4 of n = 4, 4×4)', [{ label: 'generated', png: new Uint8Array(), width: g.width, height: g.height }]);
    expect(width).toBe(fig.width);
  });
});
