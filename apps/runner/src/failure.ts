/**
 * The record a failed run leaves: a `FAILED` file saying what went wrong, where the last checkpoint
 * is and the exact command that continues the run — written on an error and on SIGINT/SIGTERM
 * alike (handlers are installed only while a run works in its directory) — and no temp litter.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { DiffusionLabError, isDiffusionLabError } from '@diffusionlab/core';
import { writeFileAtomic } from './files.js';
import { removeStaleTemps } from './litter.js';

/** Where the run's last checkpoint stands. */
export interface CheckpointMark {
  step: number;
  epoch: number;
  /** The final checkpoint, written once training finished. */
  final: boolean;
}

/** Quotes one shell word only when it needs it, so the printed command can be pasted as is. */
export function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** Exit status of a process ended by a signal, as shells report it (128 + signal number). */
export const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/** Tracks a run's progress so that any failure — an error or a signal — leaves an accurate FAILED. */
export class FailureRecorder {
  /** The last checkpoint written (or resumed from); null before the first. */
  checkpoint: CheckpointMark | null = null;
  /** Set once the run is complete (summary written): a late signal then only exits, with no FAILED. */
  finished = false;

  constructor(
    readonly runDir: string,
    private readonly run: {
      /** The config file, as given (made absolute for the printed command). */
      configPath?: string;
      overrides?: readonly string[];
      cwd: string;
      totalSteps: number;
      checkpointEvery?: number;
    },
  ) {}

  /** The command that continues this run: `--resume` from a checkpoint, else a fresh start with `--force`. */
  command(): string {
    const cfg = this.run.configPath === undefined ? '<config>' : isAbsolute(this.run.configPath) ? this.run.configPath : resolve(this.run.cwd, this.run.configPath);
    const words = ['diffusionlab', 'run', cfg, ...(this.run.overrides ?? []), '--out', this.runDir, this.checkpoint ? '--resume' : '--force'];
    return words.map((w) => (w === '<config>' ? w : shellWord(w))).join(' ');
  }

  /** Where the run stands and what to run next, in two lines (the FAILED file's tail). */
  nextStep(): string {
    const c = this.checkpoint;
    if (c?.final) {
      return `training finished: the final checkpoint (step ${c.step} of ${this.run.totalSteps}) is in checkpoint/\nresume with: ${this.command()}  (loads the final weights; samples and evaluates again without training)`;
    }
    if (c) return `last checkpoint: step ${c.step} of ${this.run.totalSteps} (epoch ${c.epoch}), in checkpoint/\nresume with: ${this.command()}`;
    const why = this.run.checkpointEvery === undefined ? 'training.checkpointEvery is not set' : `none was written yet (training.checkpointEvery = ${this.run.checkpointEvery})`;
    return `no resumable checkpoint: ${why}\nstart again with: ${this.command()}`;
  }

  /**
   * Removes this process's temp files (freeing the space a full disk needs for the marker), then
   * writes FAILED with `reason`, the checkpoint and the next command. Returns the text, or null when
   * even FAILED could not be written (the caller still reports the error).
   */
  record(reason: string): string | null {
    try {
      removeStaleTemps(this.runDir, true);
      removeStaleTemps(join(this.runDir, 'checkpoint'), true);
    } catch {
      // a read-only directory: nothing of ours to remove there
    }
    const text = `${new Date().toISOString()}\n${reason}\n${this.nextStep()}\n`;
    try {
      writeFileAtomic(join(this.runDir, 'FAILED'), text);
      return text;
    } catch {
      return null;
    }
  }

  /**
   * Handles SIGINT and SIGTERM until the returned function is called: records FAILED, prints one
   * line to stderr and exits with 130 or 143. Signals are taken where the JavaScript thread yields:
   * at the end of a training epoch ({@link eventLoopYielder}) and once sampling is done.
   */
  handleSignals(): () => void {
    const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
      const h = () => {
        if (this.finished) {
          process.stderr.write(`\ninterrupted by ${sig} after the run finished; its results are complete in ${this.runDir}\n`);
          process.exit(SIGNAL_EXIT[sig]);
        }
        const written = this.record(`interrupted by ${sig}`);
        const where = written ? `FAILED written in ${this.runDir}` : `could not write FAILED in ${this.runDir}`;
        process.stderr.write(`\ninterrupted by ${sig}: ${where}; ${this.nextStep().split('\n')[1]}\n`);
        process.exit(SIGNAL_EXIT[sig]);
      };
      process.on(sig, h);
      return [sig, h] as const;
    });
    return () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
  }
}

/** The message FAILED records for an error: a diffusionlab error's message and hint, a bug's stack. */
export function failureReason(e: unknown): string {
  if (isDiffusionLabError(e)) return `${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`;
  return (e as Error)?.stack ?? String(e);
}

/**
 * The error a finished run with failed reporters ends in (so the CLI exits non-zero), or null. The
 * run itself is complete: its summary.json lists the failures.
 */
export function reporterFailure(result: { runDir: string; summary: Record<string, unknown> }): DiffusionLabError | null {
  const errors = result.summary.reporterErrors;
  if (!Array.isArray(errors) || errors.length === 0) return null;
  return new DiffusionLabError(`${errors.length} reporter${errors.length > 1 ? 's' : ''} failed: ${errors.join('; ')}`, {
    code: 'REPORTER_FAILED',
    hint: `The model, samples and metrics are kept in ${result.runDir}; its summary.json lists the failures. Fix their cause (e.g. free disk space) and draw the figures again with \`diffusionlab sample\`.`,
  });
}

/**
 * Lets pending signals and timers run: training and sampling loops await only already-settled
 * promises, which never reach the event loop, so a signal would otherwise wait for the run to end.
 * Yields at most every `everyMs`, so it costs nothing measurable.
 */
export function eventLoopYielder(everyMs = 50): () => Promise<void> {
  let last = performance.now();
  return async () => {
    const now = performance.now();
    if (now - last < everyMs) return;
    last = now;
    await new Promise<void>((r) => setImmediate(r));
  };
}

/** One turn of the event loop, in which a signal that arrived while JavaScript was busy is handled. */
export function takePendingSignals(): Promise<void> {
  return new Promise<void>((done) => setImmediate(done));
}
