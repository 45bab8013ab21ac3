/**
 * What a sweep does on SIGINT or SIGTERM: its trial processes get the same signal (each keeps its
 * checkpoint, as an interrupted run does), one line says how far it got and how to continue, and the
 * process exits with 130 or 143 — through `exit`, so the sweep folder's lock is released and the same
 * command resumes at once (it skips complete trials; interrupted trainings continue from their checkpoints).
 */
import { SIGNAL_EXIT } from './failure.js';
import { stopTrialProcesses, trialProcessesExited } from './trial.js';

/** How far an interrupted sweep got, asked when the signal arrives. */
export interface SweepProgressProbe {
  sweepDir: string;
  /** Trials complete now (earlier runs of the same sweep included). */
  complete(): number;
  total: number;
  /** Stops the launcher (closes its connections); bounded, with the trial processes' exit, by {@link CLOSE_WAIT_MS}. */
  close(): Promise<void>;
}

/** How long an interrupted sweep waits for its launcher to close and its trial processes to record their interruption before it exits anyway. */
export const CLOSE_WAIT_MS = 10_000;

/**
 * Handles SIGINT and SIGTERM until the returned function is called. The exit waits for the event
 * loop's next turn, so a trial running in this process (jobs 1) records its own interruption first.
 */
export function handleSweepSignals(probe: SweepProgressProbe): () => void {
  let stopping = false;
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
    const h = () => {
      if (stopping) return;
      stopping = true;
      const stopped = stopTrialProcesses(sig);
      process.stderr.write(
        `\nsweep interrupted by ${sig}: ${probe.complete()} of ${probe.total} trial(s) complete in ${probe.sweepDir}` +
          `${stopped > 0 ? `; ${stopped} running trial process(es) stopped, their checkpoints kept` : ''}.\n` +
          'Run the same command again to continue: complete trials are skipped and interrupted trainings resume from their checkpoints.\n',
      );
      const exit = () => process.exit(SIGNAL_EXIT[sig]);
      const timer = setTimeout(exit, CLOSE_WAIT_MS);
      void Promise.allSettled([probe.close(), trialProcessesExited(CLOSE_WAIT_MS)]).then(() => {
        clearTimeout(timer);
        setImmediate(exit);
      });
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
