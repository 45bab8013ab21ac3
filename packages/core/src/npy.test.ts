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

  /** A float32 .npy whose header is `header` (padded like NumPy) followed by `dataBytes` bytes. */
  const withHeader = (header: string, dataBytes: number): Uint8Array => {
    const pad = 64 - ((10 + header.length + 1) % 64);
    const h = `${header}${' '.repeat(pad % 64)}\n`;
    const out = new Uint8Array(10 + h.length + dataBytes);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
    new DataView(out.buffer).setUint16(8, h.length, true);
    for (let i = 0; i < h.length; i++) out[10 + i] = h.charCodeAt(i);
    return out;
  };
  const dict = (shape: string, descr = '<f4') => `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;

  it('accepts only integer shapes: (2.5, 2), (0x10, 2), (50,,2), (a, 2), (-1, 2) and (1e2, 2) are refused', () => {
    for (const [shape, why] of [
      ['(2.5, 2)', /"2\.5"/],
      ['(0x10, 2)', /"0x10"/],
      ['(50,,2)', /an empty entry/],
      ['(a, 2)', /"a"/],
      ['(-1, 2)', /"-1"/],
      ['(1e2, 2)', /"1e2"/],
      ['(5)', /not a tuple/],
      ['[5, 2]', /unreadable \.npy header/],
    ] as const) {
      expect(() => decodeNpy(withHeader(dict(shape), 40)), shape).toThrow(why);
    }
    expect(decodeNpy(withHeader(dict('(5, 2)'), 40)).shape).toEqual([5, 2]);
    expect(decodeNpy(withHeader(dict('(10,)'), 40)).shape).toEqual([10]);
  });

  it('checks the data size against the file size, both ways, and the dtype', () => {
    expect(() => decodeNpy(withHeader(dict('(5, 2)'), 36))).toThrow(/truncated: shape \(5, 2\) of <f4 needs 40 data bytes, the file has 36/);
    expect(() => decodeNpy(withHeader(dict('(5, 2)'), 44))).toThrow(/extra bytes after the array/);
    expect(() => decodeNpy(withHeader(dict('(1000000000000, 1000000000)'), 40))).toThrow(/truncated/);
    expect(() => decodeNpy(withHeader(dict('(5, 2)', '<c8'), 80))).toThrow(/dtype <c8 is not supported/);
    expect(() => decodeNpy(withHeader(dict('(5, 2)', '|f4'), 40))).toThrow(/no byte order/);
    expect(() => decodeNpy(withHeader("{'descr': '<f4', 'shape': (5, 2), }", 40))).toThrow(/expected exactly descr, fortran_order and shape/);
    expect(() => decodeNpy(withHeader("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (5, 2), }", 40))).toThrow(/unreadable \.npy header/);
    expect(decodeNpy(withHeader(dict('(4,)', '|u1'), 4)).dtype).toBe('|u1');
  });
});
