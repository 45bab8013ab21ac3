import { describe, expect, it } from 'vitest';
import { formatError } from './cli.js';

/** An error as another copy of @diffusionlab/core throws it: not this copy's class, but branded. */
class OtherCopyError extends Error {
  readonly [Symbol.for('diffusionlab.error')] = true;
  readonly code = 'PLUGIN_ERROR';
  readonly hint = 'install the missing package';
}

describe('formatError across copies of @diffusionlab/core', () => {
  it('prints a branded error from another copy as message + hint, without a stack trace', () => {
    const text = formatError(new OtherCopyError('the plugin failed'));
    expect(text).toBe('error: the plugin failed\nhint: install the missing package');
  });

  it('prints an unbranded error with its stack (a bug)', () => {
    const text = formatError(new Error('boom'));
    expect(text).toMatch(/^error: Error: boom\n\s+at /);
  });
});
