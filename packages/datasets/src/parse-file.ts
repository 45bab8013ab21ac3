/**
 * Streams a delimited text file from disk through the {@link DelimitedParser}: the Node-only half
 * of the parsers (parse.ts stays free of `node:fs`, so a browser can parse a dropped file's text).
 */
import { createReadStream } from 'node:fs';
import { DelimitedParser, type NumericTable } from './parse.js';

/** Bytes read at a time by {@link parseDelimitedFile}. */
export const DELIMITED_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Parses a delimited text file by streaming it in chunks (UTF-8, lines split on LF or CRLF), so its
 * size is bounded by memory for the numbers, not by the longest string V8 can make.
 */
export async function parseDelimitedFile(path: string, chunkBytes = DELIMITED_CHUNK_BYTES): Promise<NumericTable> {
  const p = new DelimitedParser();
  const decoder = new TextDecoder('utf-8');
  let carry = '';
  const feed = (text: string) => {
    const lines = (carry + text).split('\n');
    carry = lines.pop() as string;
    for (const l of lines) p.line(l.endsWith('\r') ? l.slice(0, -1) : l);
  };
  const stream = createReadStream(path, { highWaterMark: chunkBytes });
  for await (const chunk of stream) feed(decoder.decode(chunk as Buffer, { stream: true }));
  feed(decoder.decode());
  if (carry !== '') p.line(carry.endsWith('\r') ? carry.slice(0, -1) : carry);
  return p.finish();
}
