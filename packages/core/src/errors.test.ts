import { describe, expect, it } from 'vitest';
import { BackendError, ConfigError, DIFFUSIONLAB_ERROR, DiffusionLabError, isConfigError, isDiffusionLabError, PluginError, TrainingDivergedError } from './errors.js';

/**
 * What another copy of @diffusionlab/core would throw: its own classes (so `instanceof` against
 * this copy fails), carrying the brand from the global symbol registry.
 */
class OtherCopyError extends Error {
  readonly [Symbol.for('diffusionlab.error')] = true;
  constructor(
    message: string,
    readonly code: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
class OtherCopyConfigError extends OtherCopyError {
  readonly issues = [{ path: 'sampler.steps', message: 'must be ≤ 1000' }];
  constructor() {
    super('Invalid config:\n  - sampler.steps: must be ≤ 1000', 'CONFIG_INVALID');
  }
}

describe('error brand', () => {
  it('is the registered symbol diffusionlab.error', () => {
    expect(DIFFUSIONLAB_ERROR).toBe(Symbol.for('diffusionlab.error'));
  });

  it('recognises every error class of this copy', () => {
    for (const e of [new DiffusionLabError('x'), new ConfigError({ path: 'a', message: 'b' }), new PluginError('p'), new BackendError('b'), new TrainingDivergedError(3, 0.5)]) {
      expect(isDiffusionLabError(e)).toBe(true);
    }
    expect(isConfigError(new ConfigError({ path: 'a', message: 'b' }))).toBe(true);
    expect(isConfigError(new PluginError('p'))).toBe(false);
  });

  it('recognises errors from another copy, which instanceof does not', () => {
    const plain = new OtherCopyError('from elsewhere', 'PLUGIN_ERROR', 'do this');
    expect(plain instanceof DiffusionLabError).toBe(false);
    expect(isDiffusionLabError(plain)).toBe(true);
    expect(isConfigError(plain)).toBe(false);
    const config = new OtherCopyConfigError();
    expect(config instanceof ConfigError).toBe(false);
    expect(isConfigError(config)).toBe(true);
    // A plain object literal carrying the brand (e.g. rebuilt by a structured clone) counts too.
    expect(isDiffusionLabError({ [Symbol.for('diffusionlab.error')]: true, code: 'X', message: 'm' })).toBe(true);
  });

  it('rejects look-alikes without the brand, and non-objects', () => {
    expect(isDiffusionLabError(new Error('plain'))).toBe(false);
    expect(isDiffusionLabError({ code: 'CONFIG_INVALID', message: 'm', issues: [] })).toBe(false);
    expect(isDiffusionLabError({ [Symbol('diffusionlab.error')]: true, code: 'X', message: 'm' })).toBe(false);
    expect(isDiffusionLabError({ [Symbol.for('diffusionlab.error')]: true, message: 'no code' })).toBe(false);
    for (const v of [undefined, null, 'error', 42]) expect(isDiffusionLabError(v)).toBe(false);
    expect(isConfigError({ [Symbol.for('diffusionlab.error')]: true, code: 'CONFIG_INVALID', message: 'm' })).toBe(false);
  });
});
