/**
 * Append-only per-epoch logs of a run directory (`metrics.jsonl`, `loss-history.jsonl`). Each line
 * is one JSON object with an `epoch`; a resumed run cuts every log back to its checkpoint's epoch,
 * so no epoch appears twice, and the loss curve is read back from the log instead of being
 * rewritten into every checkpoint (which made checkpointing slower the longer a run went).
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { writeFileAtomic } from './files.js';
import { fileError, onFile } from './io-errors.js';

/** Every epoch's mean loss (`epoch`, `step`, `loss`): the data of the loss curve, kept across `--resume`. */
export const LOSS_LOG = 'loss-history.jsonl';

/** The runner's logged-epoch metrics (`epoch`, `step`, `loss`, `lr`, `seconds`). */
export const METRICS_LOG = 'metrics.jsonl';

/** The complete lines of a log, parsed; a torn last line (a kill mid-write) or a foreign line is skipped. */
function readLines(path: string): { epoch: number; [k: string]: unknown }[] {
  if (!existsSync(path)) return [];
  const out: { epoch: number; [k: string]: unknown }[] = [];
  for (const line of onFile(path, 'read', () => readFileSync(path, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v = JSON.parse(line);
      if (typeof v === 'object' && v !== null && Number.isInteger(v.epoch)) out.push(v);
    } catch {
      // a line torn by a kill mid-write: not a record
    }
  }
  return out;
}

/**
 * Cuts a log back to the epochs ≤ `lastEpoch` (a resume from that epoch writes the later ones
 * again), dropping a torn last line too. Leaves the file alone when nothing needs cutting.
 */
export function truncateEpochLog(path: string, lastEpoch: number): void {
  if (!existsSync(path)) return;
  const text = onFile(path, 'read', () => readFileSync(path, 'utf8'));
  const kept = readLines(path).filter((l) => l.epoch <= lastEpoch);
  const next = kept.map((l) => `${JSON.stringify(l)}\n`).join('');
  if (next !== text) writeFileAtomic(path, next);
}

/** The loss history up to `lastEpoch` as {@link LOSS_LOG} recorded it. */
export function readLossLog(path: string, lastEpoch = Number.POSITIVE_INFINITY): { epoch: number; step: number; loss: number }[] {
  return readLines(path)
    .filter((l) => l.epoch <= lastEpoch && typeof l.step === 'number' && typeof l.loss === 'number')
    .map((l) => ({ epoch: l.epoch, step: l.step as number, loss: l.loss as number }));
}

/** An open log: one line appended per record, unbuffered, so a kill loses at most the line being written. */
export class EpochLog {
  private fd: number | null;

  /** Opens `path` to append (`resume`) or to start afresh. */
  constructor(
    readonly path: string,
    resume: boolean,
  ) {
    this.fd = onFile(path, 'open', () => openSync(path, resume ? 'a' : 'w'));
  }

  /** Appends one record as a JSON line; a failure (a full disk) names the file. */
  append(record: { epoch: number; [k: string]: unknown }): void {
    if (this.fd === null) return;
    try {
      writeSync(this.fd, `${JSON.stringify(record)}\n`);
    } catch (e) {
      throw fileError(e, this.path, 'write');
    }
  }

  /** Closes the file; safe to call twice. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
