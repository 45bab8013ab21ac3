// Library callers build samplers with the factories, passing only the options they change: the
// schema's defaults apply (as in a config) and its checks name the bad key.
import { ConfigError } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { createDdim, createDdpm, createDpmpp2m, createEuler, createHeun, createLms } from './index.js';

describe('sampler factories', () => {
  it('apply the schema defaults to partial options', () => {
    expect(createDdpm({ steps: 50 }).defaultSteps).toBe(50);
    expect(createDdim().defaultSteps).toBe(100);
    expect(createDpmpp2m({ sigmas: 'karras' }).defaultSteps).toBe(20);
    expect(createEuler({}).name).toBe('euler');
    expect(createHeun().defaultSteps).toBe(25);
    expect(createLms({ order: 3 }).name).toBe('lms');
  });

  it('reject invalid options with a ConfigError naming the key', () => {
    expect(() => createDdpm({ steps: 0 })).toThrow(ConfigError);
    expect(() => createDdpm({ steps: 0 })).toThrow(/sampler\.steps/);
  });
});
