/**
 * `diffusionlab worker`'s side of the bullmq launcher: pulls trial jobs, runs each in its own process
 * (so a long training never starves the lock renewal), fetches a sampling trial's model from the
 * training job's result in Redis (no shared filesystem needed), and returns the summary and the
 * trial's output folder packed. Works in a scratch folder that it clears after each trial.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TrialJson, WorkerContext, z } from '@diffusionlab/core';
import { Job, Queue, Worker } from 'bullmq';
import type { bullmqOptions } from './bullmq.js';
import type { TrialJobData, TrialJobResult } from './bullmq-coordinator.js';
import { checkRedis, jobIdOf, redisConnection, reportRedisOutages } from './bullmq-redis.js';
import { packDir, unpackDir } from './pack.js';

/** How often a running trial's folder is checked for a new checkpoint to store in Redis. */
const CHECKPOINT_POLL_MS = 250;

/**
 * Stores the trial's folder in the job's data each time its training writes a new checkpoint, so
 * the attempt that picks the trial up after this worker dies resumes there instead of at step 0.
 * A checkpoint is a folder renamed into place whole; one replaced while it was being packed is
 * skipped and packed on the next tick, so a stored folder never mixes two checkpoints.
 */
function publishCheckpoints(job: Job<TrialJobData, TrialJobResult>, outDir: string, print: (line: string) => void): { stop: () => Promise<void>; published: () => boolean } {
  const stateFile = join(outDir, 'checkpoint', 'train-state.json');
  let seen = '';
  let pending: Promise<void> = Promise.resolve();
  const version = () => {
    try {
      const st = statSync(stateFile);
      return `${st.ino}:${st.mtimeMs}`;
    } catch {
      return '';
    }
  };
  const tick = () => {
    let before = '';
    let files: Record<string, string> | undefined;
    // A checkpoint replaced while it was packed is packed again (a few tries), so fast trainings still store one.
    for (let i = 0; i < 3 && files === undefined; i++) {
      before = version();
      if (before === '' || before === seen) return;
      try {
        const packed = packDir(outDir);
        if (version() === before) files = packed;
      } catch {
        // replaced mid-read: try again
      }
    }
    if (files === undefined) return;
    seen = before;
    const step = (JSON.parse(Buffer.from(files['checkpoint/train-state.json'] ?? '', 'base64').toString('utf8') || '{}') as { step?: number }).step;
    pending = pending
      .then(() => job.updateData({ ...job.data, resume: files }))
      .then(
        () => print(`checkpoint at step ${step} stored in the queue`),
        (e: Error) => print(`could not store the checkpoint in the queue: ${e.message}`),
      );
  };
  const timer = setInterval(tick, CHECKPOINT_POLL_MS);
  return {
    published: () => seen !== '',
    stop: async () => {
      clearInterval(timer);
      await pending;
    },
  };
}

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
      if (job.data.resume) {
        unpackDir(outDir, job.data.resume);
        print('an earlier attempt left a checkpoint in the queue; resuming from it');
      }
      print(`started (attempt ${job.attemptsStarted ?? 1}) on worker ${process.pid}`);
      const publisher = publishCheckpoints(job, outDir, print);
      let summary: TrialJson;
      try {
        summary = await context.execute(trial, { outDir, modelDir, isolate: true, print });
      } finally {
        await publisher.stop();
      }
      // The result holds the final checkpoint; the periodic one in the job's data is not needed again.
      if (job.data.resume !== undefined || publisher.published()) await job.updateData({ trial: job.data.trial, model: job.data.model });
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
  // Redis going away (a restart, a network cut) is reported once, not once per retry, and never as a stack trace.
  reportRedisOutages(connection, [queue, worker], o.redis, 'worker', context.print);
  worker.on('failed', (job, e) => context.print(`[${job?.data.trial.name ?? job?.id}] failed: ${e.message.split('\n')[0]}`));
  worker.on('completed', (job) => context.print(`[${job.data.trial.name}] complete`));
  context.print(`worker ${process.pid}: waiting for trials on queue "${o.queue}" at ${o.redis} (concurrency ${o.concurrency})`);
  await new Promise<void>((resolve) => {
    if (context.signal.aborted) resolve();
    else context.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  // With Redis unreachable nothing in hand can be reported anyway (its lock lapses and it is requeued): stop at once instead of waiting for Redis.
  const force = connection.status !== 'ready';
  if (force) context.print('worker: Redis is unreachable, so the trials in hand are abandoned to the queue');
  await Promise.all([worker.close(force), force ? undefined : queue.close()]);
  connection.disconnect();
}
