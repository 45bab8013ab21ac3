/**
 * `diffusionlab worker --redis redis://host:port [--concurrency N]`: serves the trials of sweeps
 * launched with `--launcher bullmq` (or any launcher with a worker side), on this machine, until
 * SIGINT or SIGTERM. Each trial runs in its own process; its results go back through the engine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type TrainAccelerator } from '@diffusionlab/core';
import { chooseLauncher } from './launchers.js';
import { type TrialProcess, trialExecutor } from './trial.js';

/** How the CLI (or a test) starts a worker. */
export interface WorkerOptions {
  /** The launcher whose worker side runs: `bullmq` by default. */
  launcher?: string;
  /** Its options (`{ redis, concurrency, lockSeconds }`). */
  launcherOptions?: Record<string, unknown>;
  cwd?: string;
  print?: (line: string) => void;
  accelerator?: TrainAccelerator;
  /** Stops the worker; default SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** The entry forked for each trial; default the built trial-child.js. */
  process?: TrialProcess;
}

/** Runs a launcher's worker side until the signal; trials run in forked processes under a scratch folder. */
export async function runWorker(opts: WorkerOptions = {}): Promise<void> {
  const cwd = opts.cwd ?? process.cwd();
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const chosen = await chooseLauncher(opts.launcher ?? 'bullmq', opts.launcherOptions ?? {}, cwd);
  const work = chosen.def.work;
  if (!work)
    throw new ConfigError({
      path: '--launcher',
      message: `the ${chosen.def.name} launcher runs its trials itself and has no workers; workers serve a queue, e.g. --launcher bullmq`,
    });
  let signal = opts.signal;
  if (!signal) {
    const ac = new AbortController();
    const stop = () => {
      print('worker: stopping after the trials in hand (a second signal kills them; their trials return to the queue)');
      ac.abort();
      process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    signal = ac.signal;
  }
  const scratchDir = mkdtempSync(join(tmpdir(), 'diffusionlab-worker-'));
  try {
    await work(chosen.options, { execute: trialExecutor(cwd, { accelerator: opts.accelerator, process: opts.process }), scratchDir, print, signal });
  } finally {
    rmSync(scratchDir, { recursive: true, force: true });
  }
}
