import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTable } from './file.js';
import { parseDelimited } from './parse.js';
import { parseDelimitedFile } from './parse-file.js';

describe('delimited files stream (issue 13: a 600 MB CSV no longer needs one string)', () => {
  it('a file parsed in tiny chunks equals the whole text parsed at once, CRLF, BOM, comments and header included', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `${(i * 0.37).toFixed(3)},${-i},"${i % 11}e-2"`);
    const text = `\uFEFF# made for the test\r\na,b,c\r\n${rows.join('\r\n')}\r\n\r\n`;
    const path = join(mkdtempSync(join(tmpdir(), 'dl-csv-')), 'rows.csv');
    writeFileSync(path, text);
    const whole = parseDelimited(text.replace(/^\uFEFF/, ''));
    for (const chunk of [7, 64, 4096]) {
      const streamed = await parseDelimitedFile(path, chunk);
      expect(streamed.count).toBe(5000);
      expect(streamed.header).toEqual(['a', 'b', 'c']);
      expect(Array.from(streamed.data)).toEqual(Array.from(whole.data));
    }
  });

  it('errors keep their line numbers across chunk boundaries, and a multi-byte character split by a chunk survives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-csv-'));
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, `${Array.from({ length: 300 }, (_, i) => `${i},1`).join('\n')}\n301,oops\n`);
    await expect(parseDelimitedFile(bad, 5)).rejects.toThrow(/line 301, column 2: "oops" is not a number/);
    const utf = join(dir, 'utf.csv');
    writeFileSync(utf, 'größe,wert\n1,2\n3,4\n');
    const t = await parseDelimitedFile(utf, 3);
    expect(t.header).toEqual(['größe', 'wert']);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
  });

  it('readTable refuses a directory and a device as data, naming the path', async () => {
    await expect(readTable('/dev/zero', 'csv')).rejects.toThrow(/dataset\.path: cannot read \/dev\/zero: it is not a regular file/);
    await expect(readTable(tmpdir(), 'auto')).rejects.toThrow(/it is a directory/);
  });
});
