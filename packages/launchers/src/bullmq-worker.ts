/**
 * `diffusionlab worker`'s side of the bullmq launcher: pulls trial jobs, runs each in its own process
 * (so a long training never starves the lock renewal), fetches a sampling trial's model from the
 * training job's result in Redis (no shared filesystem needed), and returns the summary and the
 * trial's output folder packed. Works in a scratch folder that it clears after each trial.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerContext, z } from '@diffusionlab/core';
import { Job, Queue, Worker } from 'bullmq';
import type { bullmqOptions } from './bullmq.js';
import type { TrialJobData, TrialJobResult } from './bullmq-coordinator.js';
import { checkRedis, jobIdOf, redisConnection } from './bullmq-redis.js';
import { packDir, unpackDir } from './pack.js';

/** Serves trials until `context.signal` aborts, then lets the trials in hand finish and closes. */
export async function serveTrials(o: z.output<typeof bullmqOptions>, context: WorkerContext): Promise<void> {
  await checkRedis(o.redis);
  const connection = redisConnection(o.redis);
  const queue = new Queue<TrialJobData, TrialJobResult>(o.queue, { connection });
  mkdirSync(context.scratchDir, { recursive: true });
  const processor = async (job: Job<TrialJobData, TrialJobResult>): Promise<TrialJobResult> => {
    const { trial, model } = job.data;
    const print = (line: string) => context.print(`[${trial.name}] ${line}`);
    const dir = mkdtempSync(join(context.scratchDir, 'trial-'));
    try {
      let modelDir: string | undefined;
      if (trial.modelFrom !== undefined) {
        const files = model ?? ((await Job.fromId<TrialJobData, TrialJobResult>(queue, jobIdOf(trial.modelFrom)))?.returnvalue?.files as Record<string, string> | undefined);
        if (!files) throw new Error(`the model of ${trial.name} (trial ${trial.modelFrom}) is not in the queue; run the sweep command again to enqueue it`);
        modelDir = join(dir, 'model');
        unpackDir(modelDir, files);
      }
      const outDir = join(dir, 'out');
      print(`started (attempt ${job.attemptsStarted ?? 1}) on worker ${process.pid}`);
      const summary = await context.execute(trial, { outDir, modelDir, isolate: true, print });
      return { summary, files: packDir(outDir) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const lockMs = Math.round(o.lockSeconds * 1000);
  const worker = new Worker<TrialJobData, TrialJobResult>(o.queue, processor, {
    connection,
    concurrency: o.concurrency,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: 2,
  });
  worker.on('error', (e) => context.print(`worker: ${e.message}`));
  worker.on('failed', (job, e) => context.print(`[${job?.data.trial.name ?? job?.id}] failed: ${e.message.split('\n')[0]}`));
  worker.on('completed', (job) => context.print(`[${job.data.trial.name}] complete`));
  context.print(`worker ${process.pid}: waiting for trials on queue "${o.queue}" at ${o.redis} (concurrency ${o.concurrency})`);
  await new Promise<void>((resolve) => {
    if (context.signal.aborted) resolve();
    else context.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await worker.close();
  await queue.close();
  connection.disconnect();
}
