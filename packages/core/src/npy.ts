/**
 * NumPy `.npy` (format 1.0) encoding and decoding, so samples open directly in NumPy and users'
 * arrays load as datasets. Little-endian float32/float64/int32/uint8, C order.
 */
import { parseNpyHeader } from './npy-header.js';

/** Encodes a float32 array with the given shape as `.npy` bytes (`np.load` reads it). */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`encodeNpy: shape [${shape.join(', ')}] holds ${count} values, data has ${data.length}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const preamble = 10;
  const pad = 64 - ((preamble + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(preamble + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(body, preamble + header.length);
  return out;
}

/** A decoded `.npy`: values widened to float64 for checking, and the shape. */
export interface NpyArray {
  data: Float64Array;
  shape: number[];
  dtype: string;
}

/** Decodes `.npy` bytes (versions 1–3; f4, f8, i4, i8, u1, i1, i2, u2, u4, little or big endian, C order); the header is checked strictly ({@link parseNpyHeader}). */
export function decodeNpy(bytes: Uint8Array): NpyArray {
  const { descr, kind, littleEndian: little, itemSize: size, shape, count, dataOffset: offset } = parseNpyHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const p = offset + i * size;
    switch (kind) {
      case 'f4':
        data[i] = view.getFloat32(p, little);
        break;
      case 'f8':
        data[i] = view.getFloat64(p, little);
        break;
      case 'i4':
        data[i] = view.getInt32(p, little);
        break;
      case 'i8':
        data[i] = Number(view.getBigInt64(p, little));
        break;
      case 'u1':
        data[i] = view.getUint8(p);
        break;
      case 'i1':
        data[i] = view.getInt8(p);
        break;
      case 'i2':
        data[i] = view.getInt16(p, little);
        break;
      case 'u2':
        data[i] = view.getUint16(p, little);
        break;
      case 'u4':
        data[i] = view.getUint32(p, little);
        break;
    }
  }
  return { data, shape, dtype: descr };
}
