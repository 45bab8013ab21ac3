/**
 * Selecting a tfjs backend in tests. Plugin tests run on `cpu` (deterministic, always available);
 * the backend package is imported on demand so testkit does not force it on users who never ask.
 */
import { BackendError } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll } from 'vitest';

/** Backends this helper can load itself, and the package that registers each one. */
export type TestBackend = 'cpu' | 'wasm';

async function register(name: TestBackend): Promise<void> {
  if (tf.findBackendFactory(name)) return;
  try {
    if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
    else await import('@tensorflow/tfjs-backend-wasm');
  } catch (cause) {
    throw new BackendError(`The tfjs ${name} backend could not be loaded.`, {
      hint: `Install it as a dev dependency: pnpm add -D @tensorflow/tfjs-backend-${name}@4.22.0`,
      cause,
    });
  }
}

/** Registers (if needed) and activates a backend; why: tests must not depend on which backend loaded first. */
export async function ensureBackend(name: TestBackend = 'cpu'): Promise<void> {
  await register(name);
  const ok = await tf.setBackend(name);
  if (!ok) throw new BackendError(`tf.setBackend('${name}') failed.`, { hint: 'See the tfjs console output above.' });
  await tf.ready();
}

/**
 * Registers a vitest `beforeAll` that activates `name` (default `cpu`); call at the top of a test file.
 * Named for what it does (a hook, not an activation now), unlike core's awaitable `useBackend`.
 */
export function activateBackendBeforeAll(name: TestBackend = 'cpu'): void {
  beforeAll(() => ensureBackend(name));
}
