/**
 * Parsers for users' data files (CSV/TSV/whitespace text, JSON, NumPy .npy) into a numeric table.
 * Strict on purpose: every value must be a finite number and every row the same length, and the
 * first problem is reported with its line and column, so nothing is silently dropped or coerced.
 */
import { decodeNpy } from '@diffusionlab/core';

/** A parsed file: `count` rows of `shape` (one row = prod(shape) values), row-major, float64. */
export interface NumericTable {
  data: Float64Array;
  count: number;
  /** Shape of one row: [columns] for tables, the trailing dimensions for .npy arrays. */
  shape: number[];
  /** Column names when a CSV header was detected. */
  header?: string[];
}

/** A problem at a place in a file; `where` is "line 3, column 2" or ".npy element [3, 1]". */
export class DataFileError extends Error {
  constructor(
    readonly where: string,
    readonly detail: string,
  ) {
    super(`${where}: ${detail}`);
    this.name = 'DataFileError';
  }
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

/** Classifies one text field: a finite number, or why it is not one. */
function numberOrReason(field: string): number | string {
  if (field === '') return 'empty value';
  if (NON_FINITE.test(field)) return `non-finite value ${JSON.stringify(field)}`;
  if (!DECIMAL.test(field)) return `${JSON.stringify(field)} is not a number`;
  const v = Number(field);
  return Number.isFinite(v) ? v : `non-finite value ${JSON.stringify(field)} (overflows float64)`;
}

/** Splits one line on `delim` (or runs of whitespace when null), honouring double quotes. */
function splitFields(line: string, delim: string | null): string[] {
  if (delim === null) return line.trim().split(/\s+/);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delim) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** A Float64Array that grows by doubling, so rows of any count append without a number[] on the heap. */
class GrowableFloat64 {
  private buf = new Float64Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  /** The values, trimmed to their count. */
  take(): Float64Array {
    return this.buf.length === this.length ? this.buf : this.buf.slice(0, this.length);
  }
}

/**
 * Parses delimited text one line at a time, so a file of any size streams through it without ever
 * being one string (V8 caps strings near 512 MB). The delimiter is the first of `,` `\t` `;` found
 * on the first content line, else whitespace (np.savetxt's default). Blank lines and `#` comment
 * lines are skipped. The first line is a header when none of its fields is numeric.
 */
export class DelimitedParser {
  private lineNo = 0;
  private first = -1;
  private delim: string | null = null;
  private width = 0;
  private firstFields: string[] = [];
  private isHeader = false;
  private readonly values = new GrowableFloat64();
  private count = 0;

  /** Feeds the next line (without its line ending). */
  line(raw: string): void {
    this.lineNo++;
    const li = this.lineNo;
    const text = li === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() === '' || text.trimStart().startsWith('#')) return;
    if (this.first < 0) {
      this.first = li;
      this.delim = [',', '\t', ';'].find((d) => text.includes(d)) ?? null;
      this.firstFields = splitFields(text, this.delim);
      this.isHeader = this.firstFields.every((f) => typeof numberOrReason(f) === 'string' && !NON_FINITE.test(f) && f !== '');
      this.width = this.firstFields.length;
      if (this.isHeader) return;
    }
    const fields = splitFields(text, this.delim);
    if (fields.length !== this.width) {
      throw new DataFileError(`line ${li}, column ${Math.min(fields.length, this.width) + 1}`, `row has ${fields.length} columns but line ${this.first} has ${this.width}`);
    }
    for (let j = 0; j < fields.length; j++) {
      const v = numberOrReason(fields[j]);
      if (typeof v === 'string') {
        const name = this.isHeader ? ` (${JSON.stringify(this.firstFields[j])})` : '';
        throw new DataFileError(`line ${li}, column ${j + 1}${name}`, v);
      }
      this.values.push(v);
    }
    this.count++;
  }

  /** The table, once every line was fed. */
  finish(): NumericTable {
    if (this.first < 0) throw new DataFileError('line 1', 'the file has no data rows');
    if (this.count === 0) throw new DataFileError(`line ${this.first + 1}`, 'the file has a header but no data rows');
    return { data: this.values.take(), count: this.count, shape: [this.width], ...(this.isHeader ? { header: this.firstFields } : {}) };
  }
}

/** Parses delimited text held in memory (see {@link DelimitedParser} for the rules). */
export function parseDelimited(text: string): NumericTable {
  const p = new DelimitedParser();
  for (const line of text.split(/\r?\n/)) p.line(line);
  return p.finish();
}

/**
 * Parses JSON that is an array of numbers (one column) or an array of equal-length arrays of
 * numbers (rows). A small scanner instead of JSON.parse, so every error carries a line and column.
 */
export function parseJsonTable(text: string): NumericTable {
  let i = 0;
  const where = (at: number) => {
    let line = 1;
    let col = 1;
    for (let k = 0; k < at && k < text.length; k++) {
      if (text[k] === '\n') {
        line++;
        col = 1;
      } else col++;
    }
    return `line ${line}, column ${col}`;
  };
  const err = (at: number, msg: string): never => {
    throw new DataFileError(where(at), msg);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const describe = (at: number): string => {
    const ch = text[at];
    if (ch === undefined) return 'end of file';
    if (ch === '"') return 'a string';
    if (ch === '{') return 'an object';
    const word = /^[A-Za-z+-][A-Za-z]*/.exec(text.slice(at))?.[0];
    return word ? JSON.stringify(word) : JSON.stringify(ch);
  };
  const number = (): number => {
    const at = i;
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) {
      const word = /^[+-]?[A-Za-z]+/.exec(text.slice(i))?.[0] ?? '';
      if (NON_FINITE.test(word)) err(at, `non-finite value ${JSON.stringify(word)} (JSON has no NaN or Infinity)`);
      err(at, `expected a number, found ${describe(at)}`);
    }
    i += m![0].length;
    const v = Number(m![0]);
    if (!Number.isFinite(v)) err(at, `non-finite value ${m![0]} (overflows float64)`);
    return v;
  };
  /** Parses `[ a, b, … ]` calling `item` for each element. */
  const list = (item: (index: number) => void) => {
    const open = i;
    if (text[i] !== '[') err(i, `expected "[", found ${describe(i)}`);
    i++;
    ws();
    if (text[i] === ']') err(open, 'empty array');
    for (let k = 0; ; k++) {
      ws();
      item(k);
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === ']') {
        i++;
        return;
      } else err(i, `expected "," or "]", found ${describe(i)}`);
    }
  };
  const values: number[] = [];
  let width = -1; // 0 = flat array of numbers; > 0 = rows of that width
  let count = 0;
  ws();
  list((k) => {
    const start = i;
    if (text[i] === '[') {
      if (width === 0) err(start, `element ${k} is an array but element 0 is a number; use all numbers or all rows`);
      let n = 0;
      list(() => {
        if (text[i] === '[') err(i, 'rows must hold numbers, not nested arrays (use .npy for higher-dimensional data)');
        values.push(number());
        n++;
      });
      if (width > 0 && n !== width) err(start, `row ${k} has ${n} values but row 0 has ${width}`);
      width = n;
    } else {
      if (width > 0) err(start, `element ${k} is not an array but element 0 is; use all numbers or all rows`);
      width = 0;
      values.push(number());
    }
    count++;
  });
  ws();
  if (i < text.length) err(i, `unexpected ${describe(i)} after the top-level array`);
  return { data: Float64Array.from(values), count, shape: [Math.max(width, 1)] };
}

/** Reads a .npy array as rows along its first axis; a 1-D array is one column. */
export function parseNpyTable(bytes: Uint8Array): NumericTable {
  let arr: ReturnType<typeof decodeNpy>;
  try {
    arr = decodeNpy(bytes);
  } catch (e) {
    throw new DataFileError('.npy header', (e as Error).message);
  }
  if (arr.shape.length === 0) throw new DataFileError('.npy header', 'the array is a scalar; save an array of rows');
  const count = arr.shape[0];
  const shape = arr.shape.length === 1 ? [1] : arr.shape.slice(1);
  const row = shape.reduce((a, b) => a * b, 1);
  if (count === 0 || row === 0) throw new DataFileError('.npy header', `the array has shape (${arr.shape.join(', ')}) and holds no values`);
  for (let k = 0; k < arr.data.length; k++) {
    if (!Number.isFinite(arr.data[k])) {
      const r = Math.floor(k / row);
      throw new DataFileError(`row ${r + 1}, column ${(k % row) + 1} (0-based flat index [${r}, ${k % row}])`, `non-finite value ${arr.data[k]}`);
    }
  }
  return { data: arr.data, count, shape };
}
