/**
 * The run's reporters behind one call per hook: a reporter that throws is reported and recorded in
 * summary.json's `reporterErrors`, and the run goes on (its model is worth keeping).
 */
import type { Reporter } from '@diffusionlab/core';

/** Calls one hook on every reporter; a failing reporter is reported and recorded, never fatal. */
export class ReporterSet {
  readonly errors: string[] = [];
  constructor(
    private readonly reporters: { name: string; r: Reporter }[],
    private readonly print: (line: string) => void,
  ) {}

  async emit<H extends keyof Reporter>(hook: H, event: unknown, only: readonly { name: string; r: Reporter }[] = this.reporters): Promise<void> {
    for (const { name, r } of only) {
      const fn = r[hook] as ((e: unknown) => void | Promise<void>) | undefined;
      if (typeof fn !== 'function') continue;
      try {
        await fn.call(r, event);
      } catch (e) {
        const msg = `reporter "${name}" failed in ${String(hook)}: ${(e as Error).message}`;
        this.errors.push(msg);
        this.print(`warning: ${msg} (the run continues; the model is kept)`);
      }
    }
  }

  /**
   * `onRunEnd`, then once more for the reporters that finished before a later one failed: they wrote
   * the summary (summary.json, report.html) without that failure, and it must be listed there too.
   */
  async emitRunEnd(event: unknown): Promise<void> {
    const done: { name: string; r: Reporter }[] = [];
    let stale: { name: string; r: Reporter }[] = [];
    for (const entry of this.reporters) {
      const before = this.errors.length;
      await this.emit('onRunEnd', event, [entry]);
      if (this.errors.length > before) stale = done.slice();
      else done.push(entry);
    }
    if (stale.length > 0) await this.emit('onRunEnd', event, stale);
  }

  /** Synchronous progress hook (called every step); errors disable nothing but are recorded once. */
  progress(event: unknown): void {
    for (const { name, r } of this.reporters) {
      if (!r.onTrainProgress) continue;
      try {
        r.onTrainProgress(event as never);
      } catch (e) {
        const msg = `reporter "${name}" failed in onTrainProgress: ${(e as Error).message}`;
        if (!this.errors.includes(msg)) {
          this.errors.push(msg);
          this.print(`warning: ${msg}`);
        }
      }
    }
  }
}
