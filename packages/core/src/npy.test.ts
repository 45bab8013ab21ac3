import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from './npy.js';

describe('npy', () => {
  it('round-trips float32 data with its shape and a 64-byte aligned header', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 3);
    const bytes = encodeNpy(data, [4, 3]);
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLen) % 64).toBe(0);
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([4, 3]);
    expect(back.dtype).toBe('<f4');
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it('writes 1-D shapes the way NumPy does', () => {
    const bytes = encodeNpy(new Float32Array(3), [3]);
    expect(new TextDecoder().decode(bytes.subarray(10, 80))).toContain("'shape': (3,)");
  });

  it('rejects a shape that does not match the data and non-npy bytes', () => {
    expect(() => encodeNpy(new Float32Array(3), [2, 2])).toThrow(/holds 4 values/);
    expect(() => decodeNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/not a .npy/);
  });
});
