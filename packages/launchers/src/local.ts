/**
 * `local`: the default launcher. Trials run on this machine — trainings up to `jobs` at a time (each
 * in a forked process when `jobs` > 1), then the trials that sample from a trained model, one at a
 * time in this process. A trial that throws is started again up to `attempts` times, then recorded
 * failed with its last error; the trials that sample from its model fail without running.
 */
import { defineLauncher, etaSeconds, type LaunchContext, type Launcher, type LaunchProgress, type Trial, z } from '@diffusionlab/core';

/** Options of the `local` launcher (`--jobs`, `--attempts`). */
export const localOptions = z
  .object({
    jobs: z.number().int().min(1).default(1).describe('Trainings run at once; more than 1 runs each in a forked process.'),
    attempts: z.number().int().min(1).default(1).describe('Times a trial is started before it is recorded failed (a deterministic failure fails every time).'),
  })
  .strict();

/** Runs `fn` over `items` with at most `limit` in flight, in order of `items`. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/** Counts trials as they start and finish, and reports progress with an ETA. */
class Progress {
  private readonly started = Date.now();
  private readonly p: LaunchProgress;
  constructor(
    total: number,
    private readonly ctx: LaunchContext,
  ) {
    this.p = { total, done: 0, running: 0, failed: 0 };
  }
  start(): void {
    this.p.running++;
    this.emit();
  }
  finish(failed: boolean, ran = true): void {
    if (ran) this.p.running--;
    this.p.done++;
    if (failed) this.p.failed++;
    this.emit();
  }
  private emit(): void {
    this.ctx.onProgress?.({ ...this.p, etaSeconds: etaSeconds(this.p.done, this.p.total, (Date.now() - this.started) / 1000) });
  }
}

/** An error as one line for a table cell: a multi-line message (a config error's list) joined with `; `. */
export function oneLine(e: unknown): string {
  const text = String((e as Error)?.message ?? e);
  const lines = text
    .split('\n')
    .map((l) => l.trim().replace(/^- /, ''))
    .filter((l) => l !== '' && !l.startsWith('at '));
  return lines.length <= 1 ? (lines[0] ?? '') : `${lines[0].replace(/:$/, '')}: ${lines.slice(1).join('; ')}`;
}

/** Runs one trial up to `attempts` times and reports its final result; true when it completed. */
async function attempt(trial: Trial, ctx: LaunchContext, attempts: number, isolate: boolean, progress: Progress): Promise<boolean> {
  const print = (line: string) => ctx.print(`[${trial.name}] ${line}`);
  const modelDir = trial.modelFrom === undefined ? undefined : ctx.trialDir(trial.modelFrom);
  let error = '';
  progress.start();
  for (let n = 1; n <= attempts; n++) {
    try {
      const summary = await ctx.execute(trial, { outDir: ctx.trialDir(trial.id), modelDir, isolate, print });
      ctx.onResult({ id: trial.id, status: 'complete', summary, attempts: n });
      progress.finish(false);
      return true;
    } catch (e) {
      error = oneLine(e);
      print(`failed${attempts > 1 ? ` (attempt ${n} of ${attempts})` : ''}: ${error}`);
    }
  }
  ctx.onResult({ id: trial.id, status: 'failed', error, attempts });
  progress.finish(true);
  return false;
}

/** The `local` launcher: this machine's processes, trainings first, then the sampling trials. */
export const localLauncher = defineLauncher({
  kind: 'launcher',
  name: 'local',
  description: 'Runs trials on this machine: trainings up to --jobs at a time in forked processes, then the sampling-only trials.',
  options: localOptions,
  create(options): Launcher {
    return {
      name: 'local',
      async launch(trials, ctx) {
        const inLaunch = new Set(trials.map((t) => t.id));
        const failed = new Set<string>();
        const progress = new Progress(trials.length, ctx);
        // A trial whose model is not trained in this launch samples from a model trained before.
        const trainers = trials.filter((t) => t.modelFrom === undefined || !inLaunch.has(t.modelFrom));
        const samplers = trials.filter((t) => t.modelFrom !== undefined && inLaunch.has(t.modelFrom));
        await pool(trainers, options.jobs, async (t) => {
          // Parallel trials each get a process: tfjs state is per process.
          if (!(await attempt(t, ctx, options.attempts, options.jobs > 1, progress))) failed.add(t.id);
        });
        for (const t of samplers) {
          const model = trials.find((m) => m.id === t.modelFrom) as Trial;
          if (failed.has(model.id)) {
            ctx.onResult({ id: t.id, status: 'failed', error: `its model (${model.name}) failed to train`, attempts: 0 });
            progress.finish(true, false);
            continue;
          }
          await attempt(t, ctx, options.attempts, false, progress);
        }
      },
    };
  },
});
