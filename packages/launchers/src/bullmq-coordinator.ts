/**
 * The sweep command's side of the bullmq launcher: enqueues each trial as a job whose id is the
 * trial's (so enqueuing twice, or a restarted sweep command, adds nothing and reattaches), enqueues
 * the sampling trials of a model once it is trained, and polls the jobs until every trial is final,
 * reporting progress and each result with its packed folder.
 */
import type { LaunchContext, Launcher, Trial, TrialJson, z } from '@diffusionlab/core';
import { etaSeconds } from '@diffusionlab/core';
import { Queue } from 'bullmq';
import type { bullmqOptions } from './bullmq.js';
import { checkRedis, jobIdOf, redisConnection, reportRedisOutages } from './bullmq-redis.js';
import { packDir } from './pack.js';

/** What a job carries: the trial, and its model's folder when the queue does not hold that model's job. */
export interface TrialJobData {
  trial: Trial;
  model?: Record<string, string>;
  /**
   * The trial's output folder as its last attempt left it at its latest checkpoint (packed, see
   * pack.ts); a worker retrying the trial unpacks it so the training resumes from there.
   */
  resume?: Record<string, string>;
}

/** What a worker returns for a job: the trial's summary and its output folder, packed. */
export interface TrialJobResult {
  summary: TrialJson;
  files: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Enqueues trials on a BullMQ queue and waits for their results. */
export class BullmqCoordinator implements Launcher {
  readonly name = 'bullmq';
  constructor(private readonly o: z.output<typeof bullmqOptions>) {}

  async launch(trials: readonly Trial[], ctx: LaunchContext): Promise<void> {
    await checkRedis(this.o.redis);
    const connection = redisConnection(this.o.redis);
    const queue = new Queue<TrialJobData, TrialJobResult>(this.o.queue, { connection });
    // A Redis restart mid-sweep: one line each way; the polling below waits for it, and re-enqueues trials a restart without persistence lost.
    reportRedisOutages(connection, [queue], this.o.redis, 'bullmq', ctx.print);
    try {
      await this.run(queue, trials, ctx);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }

  private async run(queue: Queue<TrialJobData, TrialJobResult>, trials: readonly Trial[], ctx: LaunchContext): Promise<void> {
    const inLaunch = new Set(trials.map((t) => t.id));
    const enqueued = new Set<string>();
    const final = new Set<string>();
    let failed = 0;
    const started = Date.now();

    const enqueue = async (t: Trial) => {
      const jobId = jobIdOf(t.id);
      const existing = await queue.getJob(jobId);
      if (existing) {
        // The same trial from an earlier sweep command: reattach; one that failed for good runs again.
        if ((await existing.getState()) === 'failed') await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      } else {
        const data: TrialJobData = { trial: t };
        if (t.modelFrom !== undefined && !inLaunch.has(t.modelFrom)) {
          const modelJob = await queue.getJob(jobIdOf(t.modelFrom));
          if (!modelJob || (await modelJob.getState()) !== 'completed') data.model = packDir(ctx.trialDir(t.modelFrom));
        }
        await queue.add('trial', data, { jobId, attempts: this.o.attempts, removeOnComplete: false, removeOnFail: false });
      }
      enqueued.add(t.id);
    };
    const finish = (id: string) => {
      final.add(id);
      enqueued.delete(id);
    };
    const failDependents = (t: Trial) => {
      for (const s of trials.filter((x) => x.modelFrom === t.id)) {
        ctx.onResult({ id: s.id, status: 'failed', error: `its model (${t.name}) failed to train`, attempts: 0 });
        failed++;
        finish(s.id);
      }
    };

    for (const t of trials) if (t.modelFrom === undefined || !inLaunch.has(t.modelFrom)) await enqueue(t);
    ctx.print(`bullmq: ${enqueued.size} trial(s) on queue "${this.o.queue}" at ${this.o.redis}; start workers with: diffusionlab worker --redis ${this.o.redis}`);
    let last = '';
    while (final.size < trials.length) {
      let running = 0;
      for (const id of [...enqueued]) {
        const t = trials.find((x) => x.id === id) as Trial;
        // The state first, then the job: a job read before it finished holds no result yet.
        const state = await queue.getJobState(jobIdOf(id));
        const job = await queue.getJob(jobIdOf(id));
        const rv = job?.returnvalue as TrialJobResult | null | undefined;
        if (job && state === 'completed' && rv) {
          ctx.onResult({ id, status: 'complete', summary: rv.summary, files: rv.files, attempts: Math.max(1, job.attemptsStarted ?? 1) });
          finish(id);
          for (const s of trials.filter((x) => x.modelFrom === id)) await enqueue(s);
        } else if (job && state === 'failed') {
          const error = String(job.failedReason ?? 'failed').split('\n')[0];
          ctx.print(`[${t.name}] failed: ${error}`);
          ctx.onResult({ id, status: 'failed', error, attempts: Math.max(1, job.attemptsStarted ?? 1) });
          failed++;
          finish(id);
          failDependents(t);
        } else if (!job && state === 'unknown') {
          // Removed from the queue behind our back (obliterated, flushed): enqueue it again.
          enqueued.delete(id);
          await enqueue(t);
        } else if (state === 'active') running++;
      }
      const done = final.size;
      const progress = { total: trials.length, done, running, failed, etaSeconds: etaSeconds(done, trials.length, (Date.now() - started) / 1000) };
      const key = `${done}/${running}/${failed}`;
      if (key !== last) {
        last = key;
        ctx.onProgress?.(progress);
      }
      if (final.size < trials.length) await sleep(this.o.pollSeconds * 1000);
    }
  }
}
