/**
 * The `.npy` header, parsed strictly: it is a Python dict literal with exactly `descr`,
 * `fortran_order` and `shape`, and the shape is a tuple of plain non-negative integers. Anything
 * looser (`(2.5, 2)`, `(0x10, 2)`, `(50,,2)`, `(a, 2)`) is refused, because reading a wrong shape
 * trains on misaligned garbage without any other symptom.
 */

/** Element sizes of the dtypes the decoder reads (kind + byte size, without the byte-order mark). */
export const NPY_DTYPE_SIZES: Readonly<Record<string, number>> = { f4: 4, f8: 8, i4: 4, i8: 8, u1: 1, i1: 1, i2: 2, u2: 2, u4: 4 };

/** A validated header: byte order, dtype kind, shape, element count and where the data starts. */
export interface NpyHeader {
  /** The dtype as written, e.g. `<f4`. */
  descr: string;
  /** `f4`, `i8`, … (a key of {@link NPY_DTYPE_SIZES}). */
  kind: string;
  littleEndian: boolean;
  itemSize: number;
  shape: number[];
  /** Product of the shape (1 for a scalar). */
  count: number;
  /** Byte offset of the first data byte. */
  dataOffset: number;
}

const STRING = `'(?:[^'\\\\]|\\\\.)*'`;
const ENTRY = new RegExp(`^\\s*(${STRING})\\s*:\\s*('(?:[^'\\\\]|\\\\.)*'|True|False|\\([^()]*\\))\\s*(,|$)`);

/** Splits a `{'k': v, …}` literal into entries; null when it is not one. */
function dictEntries(text: string): Map<string, string> | null {
  const m = /^\s*\{([\s\S]*)\}\s*$/.exec(text);
  if (!m) return null;
  const out = new Map<string, string>();
  let rest = m[1];
  while (rest.trim() !== '') {
    const e = ENTRY.exec(rest);
    if (!e) return null;
    const key = e[1].slice(1, -1);
    if (out.has(key)) return null;
    out.set(key, e[2]);
    rest = rest.slice(e[0].length);
  }
  return out;
}

/** Parses `(a, b, …)` where every entry is a decimal integer; a trailing comma is allowed, as NumPy writes `(3,)`. */
export function parseNpyShape(tuple: string): number[] {
  const inner = /^\(([\s\S]*)\)$/.exec(tuple.trim())?.[1];
  if (inner === undefined) throw new Error(`.npy shape ${tuple} is not a tuple`);
  if (inner.trim() === '') return [];
  const parts = inner.split(',').map((s) => s.trim());
  if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
  if (parts.length === 1 && !/,\s*$/.test(inner)) throw new Error(`.npy shape ${tuple} is not a tuple (a 1-D shape is written (n,))`);
  return parts.map((p) => {
    if (!/^\d+$/.test(p))
      throw new Error(`.npy shape ${tuple} has ${p === '' ? 'an empty entry' : `the entry ${JSON.stringify(p)}`}; every dimension must be a non-negative integer`);
    const n = Number(p);
    if (!Number.isSafeInteger(n)) throw new Error(`.npy shape ${tuple} has the dimension ${p}, which is too large`);
    return n;
  });
}

/** Reads and checks the header of `.npy` bytes (versions 1–3), including that the data size matches the file size exactly. */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  for (let i = 0; i < 6; i++) if (bytes[i] !== magic[i]) throw new Error('not a .npy file (bad magic bytes)');
  if (bytes.byteLength < 10) throw new Error('not a .npy file (too short)');
  const major = bytes[6];
  if (major < 1 || major > 3) throw new Error(`.npy format version ${major}.${bytes[7]} is not supported (1.0–3.0 are)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = major === 1 ? 10 : 12;
  if (bytes.byteLength < start) throw new Error('not a .npy file (too short)');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (start + headerLen > bytes.byteLength) throw new Error(`.npy header claims ${headerLen} bytes but the file has only ${bytes.byteLength - start} after the preamble`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const entries = dictEntries(header);
  if (!entries) throw new Error("unreadable .npy header: it must be a dict literal {'descr': …, 'fortran_order': …, 'shape': (…)}");
  const keys = [...entries.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') throw new Error(`.npy header has the keys ${[...entries.keys()].join(', ')}; expected exactly descr, fortran_order and shape`);
  const descrLit = entries.get('descr') as string;
  const fortran = entries.get('fortran_order') as string;
  const shapeLit = entries.get('shape') as string;
  if (!descrLit.startsWith("'")) throw new Error(`.npy dtype ${descrLit} is not supported (structured dtypes are not; use float32, float64 or an integer type)`);
  const descr = descrLit.slice(1, -1);
  const dt = /^([<>|=]?)([a-z]\d+)$/.exec(descr);
  const itemSize = dt ? NPY_DTYPE_SIZES[dt[2]] : undefined;
  if (!dt || itemSize === undefined) throw new Error(`.npy dtype ${descr} is not supported (use float32, float64 or an integer type)`);
  if (dt[1] === '|' && itemSize !== 1) throw new Error(`.npy dtype ${descr} has no byte order; only 1-byte types may use '|'`);
  if (fortran !== 'True' && fortran !== 'False') throw new Error(`.npy fortran_order must be True or False, not ${fortran}`);
  if (fortran === 'True') throw new Error('.npy arrays in Fortran order are not supported; save with np.ascontiguousarray');
  if (!shapeLit.startsWith('(')) throw new Error(`.npy shape ${shapeLit} is not a tuple`);
  const shape = parseNpyShape(shapeLit);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataOffset = start + headerLen;
  const have = bytes.byteLength - dataOffset;
  const need = count * itemSize;
  if (!Number.isSafeInteger(need) || need !== have) {
    const what = need > have ? 'is truncated' : 'has extra bytes after the array';
    throw new Error(`.npy file ${what}: shape (${shape.join(', ')}) of ${descr} needs ${need} data bytes, the file has ${have}`);
  }
  return { descr, kind: dt[2], littleEndian: dt[1] !== '>', itemSize, shape, count, dataOffset };
}
