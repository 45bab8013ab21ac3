import { describe, expect, it } from 'vitest';
import { declineIfTooBig, KERNEL_MAX_BYTES, KernelInstance, KernelMemoryError } from './wasm.js';

describe('fused kernel memory limit (issue 13: mlp width=16384 crashed with "memory access out of bounds")', () => {
  it('an allocation past 4 GiB throws KernelMemoryError before touching memory, and the instance stays usable', () => {
    const k = new KernelInstance();
    const small = k.alloc(1024);
    expect(() => k.alloc(KERNEL_MAX_BYTES / 4)).toThrow(KernelMemoryError);
    expect(() => k.alloc(5e8 * 3)).toThrow(/needs [\d.]+ GiB of memory, over its 4 GiB limit/);
    k.view(small, 1024).fill(1);
    expect(k.view(small, 1024)[1023]).toBe(1);
  });

  it('builders that hit the limit decline with the reason instead of throwing', () => {
    expect(declineIfTooBig(() => new KernelInstance().alloc(KERNEL_MAX_BYTES))).toMatch(/over its 4 GiB limit/);
    expect(() =>
      declineIfTooBig(() => {
        throw new Error('other');
      }),
    ).toThrow('other');
  });
});
