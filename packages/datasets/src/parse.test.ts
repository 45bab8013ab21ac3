import { encodeNpy } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { parseDelimited, parseJsonTable, parseNpyTable } from './parse.js';

const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('parseDelimited', () => {
  it('reads comma rows without a header', () => {
    const t = parseDelimited('1,2\n3.5,-4e-1\n');
    expect(t.count).toBe(2);
    expect(t.shape).toEqual([2]);
    expect(Array.from(t.data)).toEqual([1, 2, 3.5, -0.4]);
    expect(t.header).toBeUndefined();
  });

  it('detects a header, CRLF, BOM-free quotes, comments and blank lines', () => {
    const t = parseDelimited('# exported\r\n"x","y"\r\n1,2\r\n\r\n"3",4\r\n');
    expect(t.header).toEqual(['x', 'y']);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
  });

  it('detects tabs, semicolons and whitespace (np.savetxt default)', () => {
    expect(Array.from(parseDelimited('1\t2\n3\t4').data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(parseDelimited('1;2\n3;4').data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(parseDelimited('1.000000000000000000e+00 2.5e+00\n  3   4\n').data)).toEqual([1, 2.5, 3, 4]);
    const one = parseDelimited('5\n6\n7');
    expect(one.shape).toEqual([1]);
    expect(one.count).toBe(3);
  });

  it('names the line and column of a non-numeric, empty or non-finite value', () => {
    expect(errorOf(() => parseDelimited('1,2\n3,abc\n'))).toBe('line 2, column 2: "abc" is not a number');
    expect(errorOf(() => parseDelimited('a,b\n1,2\n3,\n'))).toBe('line 3, column 2 ("b"): empty value');
    expect(errorOf(() => parseDelimited('1,2\nNaN,2\n'))).toBe('line 2, column 1: non-finite value "NaN"');
    expect(errorOf(() => parseDelimited('1,-inf\n'))).toBe('line 1, column 2: non-finite value "-inf"');
    expect(errorOf(() => parseDelimited('1,1e999\n'))).toMatch(/^line 1, column 2: non-finite value "1e999"/);
    expect(errorOf(() => parseDelimited('1,0x10\n'))).toBe('line 1, column 2: "0x10" is not a number');
    // A mixed first line is data with a bad value, not a header.
    expect(errorOf(() => parseDelimited('1,y\n2,3\n'))).toBe('line 1, column 2: "y" is not a number');
  });

  it('rejects ragged rows and empty files', () => {
    expect(errorOf(() => parseDelimited('1,2\n3,4,5\n'))).toBe('line 2, column 3: row has 3 columns but line 1 has 2');
    expect(errorOf(() => parseDelimited('x,y\n\n1\n'))).toBe('line 3, column 2: row has 1 columns but line 1 has 2');
    expect(errorOf(() => parseDelimited('\n# nothing\n'))).toBe('line 1: the file has no data rows');
    expect(errorOf(() => parseDelimited('x,y\n'))).toBe('line 2: the file has a header but no data rows');
  });
});

describe('parseJsonTable', () => {
  it('reads an array of numbers as one column and an array of rows', () => {
    const a = parseJsonTable('[1, 2.5, -3e2]');
    expect(a.shape).toEqual([1]);
    expect(Array.from(a.data)).toEqual([1, 2.5, -300]);
    const b = parseJsonTable('[\n  [1, 2],\n  [3, 4]\n]\n');
    expect(b.shape).toEqual([2]);
    expect(b.count).toBe(2);
    expect(Array.from(b.data)).toEqual([1, 2, 3, 4]);
  });

  it('reports malformed JSON and bad values with line and column', () => {
    expect(errorOf(() => parseJsonTable('[\n  [1, 2],\n  [3, "x"]\n]'))).toBe('line 3, column 7: expected a number, found a string');
    expect(errorOf(() => parseJsonTable('[\n  [1, 2],\n  [3, 4, 5]\n]'))).toBe('line 3, column 3: row 1 has 3 values but row 0 has 2');
    expect(errorOf(() => parseJsonTable('[1, NaN]'))).toBe('line 1, column 5: non-finite value "NaN" (JSON has no NaN or Infinity)');
    expect(errorOf(() => parseJsonTable('[1, null]'))).toBe('line 1, column 5: expected a number, found "null"');
    expect(errorOf(() => parseJsonTable('[1, 2'))).toBe('line 1, column 6: expected "," or "]", found end of file');
    expect(errorOf(() => parseJsonTable('[1, [2]]'))).toBe('line 1, column 5: element 1 is an array but element 0 is a number; use all numbers or all rows');
    expect(errorOf(() => parseJsonTable('[[[1]]]'))).toMatch(/^line 1, column 3: rows must hold numbers/);
    expect(errorOf(() => parseJsonTable('{"a": 1}'))).toBe('line 1, column 1: expected "[", found an object');
    expect(errorOf(() => parseJsonTable('[]'))).toBe('line 1, column 1: empty array');
    expect(errorOf(() => parseJsonTable('[1] x'))).toBe('line 1, column 5: unexpected "x" after the top-level array');
  });
});

describe('parseNpyTable', () => {
  it('reads 1-D arrays as one column and N-D arrays as rows of the trailing shape', () => {
    const a = parseNpyTable(encodeNpy(new Float32Array([1, 2, 3]), [3]));
    expect(a.shape).toEqual([1]);
    expect(a.count).toBe(3);
    const b = parseNpyTable(encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]));
    expect(b.shape).toEqual([2]);
    expect(Array.from(b.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const c = parseNpyTable(encodeNpy(new Float32Array(2 * 2 * 2), [2, 2, 2, 1]));
    expect(c.shape).toEqual([2, 2, 1]);
  });

  it('names non-finite values and bad headers', () => {
    expect(errorOf(() => parseNpyTable(encodeNpy(new Float32Array([1, 2, 3, Number.NaN]), [2, 2])))).toBe('row 2, column 2 (0-based flat index [1, 1]): non-finite value NaN');
    expect(errorOf(() => parseNpyTable(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])))).toBe('.npy header: not a .npy file (bad magic bytes)');
  });
});
