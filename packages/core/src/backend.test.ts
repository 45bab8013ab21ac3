// useBackend is the one line a library user needs before any tensor op: it loads the backend
// package (an optional peer), activates it, and names the package to install when it is missing.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BACKEND_PACKAGES, type BackendName, useBackend } from './backend.js';
import { BackendError } from './errors.js';

describe('useBackend', () => {
  it('loads and activates the cpu backend in one call', async () => {
    expect(await useBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const sum = tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]);
    expect(sum).toBe(6);
  });

  it('names the package to install (at tfjs-core’s version) when the backend is missing', async () => {
    // @tensorflow/tfjs-backend-webgl is not a dependency anywhere in this repository.
    const err = await useBackend('webgl').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).message).toBe('backend "webgl" needs @tensorflow/tfjs-backend-webgl, which is not installed.');
    expect((err as BackendError).hint).toContain(`npm install @tensorflow/tfjs-backend-webgl@${tf.version_core}`);
    expect(tf.getBackend()).toBe('cpu'); // the active backend is left as it was
  });

  it('rejects an unknown backend name with the valid ones', async () => {
    const err = await useBackend('gpu' as BackendName).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).hint).toBe(`Use one of: ${Object.keys(BACKEND_PACKAGES).join(', ')}.`);
  });
});
