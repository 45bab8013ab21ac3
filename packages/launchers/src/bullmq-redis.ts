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

/** The BullMQ job id of a trial (custom ids must not be plain integers, which a hex hash can be). */
export const jobIdOf = (trialId: string) => `trial-${trialId}`;
