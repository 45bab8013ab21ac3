/**
 * `bullmq`: trials as jobs on a BullMQ queue in Redis. `diffusionlab sweep … --launcher bullmq
 * --redis redis://host:port` enqueues them (job id = trial id, so enqueuing twice adds nothing) and
 * waits; `diffusionlab worker --redis …` on any number of machines pulls them, runs each in its own
 * process and returns the summary and the trial's folder through Redis. A worker killed mid-trial
 * stops renewing its lock; after `lockSeconds` the trial goes back to the queue for another worker.
 * The engine loads only when this launcher is used.
 */
import { defineLauncher, z } from '@diffusionlab/core';

/** Options of the `bullmq` launcher (`--redis`, `--attempts`, `--concurrency`, …). */
export const bullmqOptions = z
  .object({
    redis: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379')
      .default('redis://127.0.0.1:6379')
      .describe('The Redis server that holds the queue.'),
    queue: z
      .string()
      .regex(/^[\w.-]+$/)
      .default('diffusionlab')
      .describe('Queue name: sweeps and workers on one queue share trials.'),
    attempts: z.number().int().min(1).default(1).describe('Times a trial is started before it is recorded failed.'),
    concurrency: z.number().int().min(1).default(1).describe('Trials one worker runs at once (each in its own process).'),
    lockSeconds: z.number().positive().default(30).describe("How long a trial's lock lasts unrenewed: a killed worker's trial returns to the queue after it."),
    pollSeconds: z.number().positive().default(0.5).describe('How often the sweep command checks its trials.'),
  })
  .strict();

/** The `bullmq` launcher: a Redis queue for the sweep command, and `work` for `diffusionlab worker`. */
export const bullmqLauncher = defineLauncher({
  kind: 'launcher',
  name: 'bullmq',
  description: 'Enqueues trials on a BullMQ queue in Redis; `diffusionlab worker` processes on any machine run them.',
  options: bullmqOptions,
  async create(options) {
    const { BullmqCoordinator } = await import('./bullmq-coordinator.js');
    return new BullmqCoordinator(options);
  },
  async work(options, context) {
    const { serveTrials } = await import('./bullmq-worker.js');
    await serveTrials(options, context);
  },
});
