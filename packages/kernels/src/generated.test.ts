import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM build script without type declarations
import { compileKernel, generatedSource } from '../scripts/build-wasm.mjs';
import { MLP_WASM_BASE64 } from './generated/mlp-wasm.js';
import { simdSupported } from './wasm.js';

describe('the embedded WebAssembly module', () => {
  it('is exactly what assembly/mlp.ts compiles to (run `pnpm build:wasm` after editing it)', async () => {
    const bytes: Buffer = await compileKernel();
    expect(Buffer.from(MLP_WASM_BASE64, 'base64').equals(bytes)).toBe(true);
    const committed = readFileSync(new URL('./generated/mlp-wasm.ts', import.meta.url), 'utf8');
    expect(committed).toBe(generatedSource(bytes));
  });

  it('validates on this runtime and exports the kernels the host calls', () => {
    const bytes = Buffer.from(MLP_WASM_BASE64, 'base64');
    expect(WebAssembly.validate(bytes)).toBe(true);
    expect(simdSupported()).toBe(true);
    const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes))
      .map((e) => e.name)
      .sort();
    expect(names).toEqual(
      [
        'actBackward',
        'actForward',
        'adam',
        'addInto',
        'addTime',
        'avgPool2',
        'avgPool2Grad',
        'colSum',
        'concatChannels',
        'convFilterGrad',
        'convForward',
        'flipKernel',
        'gemmNN',
        'gemmNT',
        'gemmTN',
        'heapBase',
        'im2col',
        'memory',
        'mseGrad',
        'splitChannels',
        'sumSquares',
        'tnAccumulate',
        'upsample2',
        'upsample2Grad',
      ].sort(),
    );
  });
});
