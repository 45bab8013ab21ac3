/**
 * Redis connections for the bullmq launcher: one check up front that fails fast with a clear
 * message, then connections that retry forever (a worker outlives Redis restarts).
 */
import { DiffusionLabError } from '@diffusionlab/core';
import { Redis } from 'ioredis';

/** A connection for BullMQ (which requires `maxRetriesPerRequest: null` for its blocking commands). */
export function redisConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** Pings Redis once, giving up after a few seconds with an error that says how to start it. */
export async function checkRedis(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new DiffusionLabError(`cannot reach Redis at ${url}: ${(e as Error).message}`, {
      hint: 'start one (redis-server --port 6379, or apt-get install redis-server) and pass its URL with --redis redis://host:port',
    });
  } finally {
    client.disconnect();
  }
}

/** Anything that emits Redis errors: the connection, a BullMQ Queue or Worker. */
interface ErrorEmitter {
  on(event: 'error', listener: (e: Error) => void): unknown;
}

/**
 * Reports a Redis outage once, not once per retry, and never as a stack trace: `who: lost Redis at
 * URL (reason); retrying until it is back`, then `who: Redis at URL is back`. Why: BullMQ prints
 * every reconnection error with its stack when nothing listens, and the connections retry forever.
 */
export function reportRedisOutages(connection: Redis, emitters: readonly ErrorEmitter[], url: string, who: string, print: (line: string) => void): void {
  let lost = false;
  const onError = (e: Error) => {
    if (lost) return;
    lost = true;
    print(`${who}: lost Redis at ${url} (${e.message.split('\n')[0]}); retrying until it is back`);
  };
  connection.on('error', onError);
  for (const e of emitters) e.on('error', onError);
  connection.on('ready', () => {
    if (lost) print(`${who}: Redis at ${url} is back`);
    lost = false;
  });
}

/** The BullMQ job id of a trial (custom ids must not be plain integers, which a hex hash can be). */
export const jobIdOf = (trialId: string) => `trial-${trialId}`;
