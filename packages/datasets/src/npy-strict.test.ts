import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { readTable } from './file.js';

/** Real .npy bytes from encodeNpy with the shape text in the header replaced (same length keeps the padding). */
function corrupt(shapeText: string): Uint8Array {
  const bytes = encodeNpy(
    Float32Array.from({ length: 100 }, (_, i) => i),
    [50, 2],
  );
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, 128));
  const at = text.indexOf('(50, 2)');
  const out = bytes.slice();
  const padded = shapeText.padEnd(7, ' ');
  for (let i = 0; i < 7; i++) out[at + i] = padded.charCodeAt(i);
  return out;
}

describe('a .npy file with a corrupt header (issue 13)', () => {
  it('is refused when read, with the file named and the bad shape entry quoted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-npy-'));
    for (const [shape, why] of [
      ['(2.5,2)', /"2\.5"/],
      ['(0x9,2)', /"0x9"/],
      ['(50,,2)', /an empty entry/],
      ['(a,2)', /"a"/],
      ['(40, 2)', /extra bytes after the array/],
      ['(60, 2)', /truncated/],
    ] as const) {
      const path = join(dir, 'bad.npy');
      writeFileSync(path, corrupt(shape));
      await expect(readTable(path, 'auto'), shape).rejects.toThrow(new RegExp(`bad\\.npy: \\.npy header: .*${why.source}`));
    }
    const good = join(dir, 'good.npy');
    writeFileSync(good, corrupt('(50, 2)'));
    expect((await readTable(good, 'auto')).count).toBe(50);
  });
});
