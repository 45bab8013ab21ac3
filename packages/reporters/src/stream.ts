/**
 * An append-only line stream in the run directory, written with synchronous writes so every line reaches
 * the OS as soon as it is logged: a crash or Ctrl-C mid-training keeps every epoch logged so far.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeError } from './files.js';

/** A line-oriented log file opened (truncated) on first write and closed with fsync at run end. */
export class LineFile {
  private fd: number | undefined;

  /** `header` is written first when the file is opened (CSV column names). */
  constructor(
    private readonly reporter: string,
    readonly path: string,
    private readonly header?: string,
  ) {}

  /** Appends one line (a newline is added), opening the file on first use. */
  writeLine(line: string): void {
    try {
      if (this.fd === undefined) {
        mkdirSync(dirname(this.path), { recursive: true });
        this.fd = openSync(this.path, 'w');
        if (this.header !== undefined) writeSync(this.fd, `${this.header}\n`);
      }
      writeSync(this.fd, `${line}\n`);
    } catch (err) {
      throw writeError(this.reporter, this.path, err);
    }
  }

  /** Flushes to disk and closes; safe to call when nothing was written. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fsyncSync(fd);
    } catch (err) {
      throw writeError(this.reporter, this.path, err);
    } finally {
      closeSync(fd);
    }
  }
}
