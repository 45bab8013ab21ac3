import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { instantiate, LIBRARY_CONTEXT, withDefaults } from './factory.js';
import { definePlugin } from './plugin.js';
import type { Sampler } from './spec.js';

const schema = z
  .object({
    steps: z.number().int().positive().default(20).describe('steps'),
    eta: z.number().min(0).default(0).describe('eta'),
  })
  .strict();

describe('withDefaults', () => {
  const make = withDefaults(schema, (o) => ({ ...o }), 'sampler');

  it('applies the schema defaults to partial and missing options', () => {
    expect(make({ steps: 50 })).toEqual({ steps: 50, eta: 0 });
    expect(make()).toEqual({ steps: 20, eta: 0 });
  });

  it('validates with the schema and names the key', () => {
    expect(() => make({ steps: -1 })).toThrow(ConfigError);
    expect(() => make({ steps: -1 })).toThrow(/sampler\.steps/);
    // @ts-expect-error: unknown keys are a type error as well as a ConfigError
    expect(() => make({ stpes: 5 })).toThrow(/sampler\.stpes: unknown key; did you mean "steps"/);
  });

  it('passes extra builder arguments through', () => {
    const withCtx = withDefaults(schema, (o, ctx: { seed: number }) => o.steps + ctx.seed, 'sampler');
    expect(withCtx({}, { seed: 1 })).toBe(21);
  });
});

describe('instantiate', () => {
  const plugin = definePlugin({
    kind: 'sampler',
    name: 'probe',
    description: 'test plugin',
    options: schema,
    create: (o, ctx): Sampler => ({
      name: `probe-${ctx.seed}`,
      defaultSteps: o.steps,
      timesteps: () => [],
      sample: () => Promise.reject(new Error('not used')),
    }),
  });

  it('parses options through the plugin schema and returns the synchronous instance', () => {
    const s: Sampler = instantiate(plugin, { eta: 1 });
    expect(s.defaultSteps).toBe(20);
    expect(s.name).toBe('probe-0');
    expect(instantiate(plugin, {}, { ...LIBRARY_CONTEXT, seed: 7 }).name).toBe('probe-7');
  });

  it('names the plugin kind and key in errors', () => {
    expect(() => instantiate(plugin, { eta: -1 })).toThrow(/sampler\.eta/);
  });
});
