import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigError, PluginError } from './errors.js';
import { parseOptions } from './options.js';
import { definePlugin } from './plugin.js';
import { PluginRegistry, suggest } from './registry.js';
import { scheduleFromBetas } from './schedule.js';

const linear = definePlugin({
  kind: 'schedule',
  name: 'linear',
  description: 'test',
  options: z.object({ timesteps: z.number().int().positive().default(10) }).strict(),
  create: (o) =>
    scheduleFromBetas(
      'linear',
      Array.from({ length: o.timesteps }, () => 0.1),
    ),
});
const cosine = { ...linear, name: 'cosine' };

describe('PluginRegistry', () => {
  it('finds plugins by kind and name', () => {
    const r = new PluginRegistry([linear, cosine]);
    expect(r.get('schedule', 'linear')).toBe(linear);
    expect(r.names('schedule')).toEqual(['cosine', 'linear']);
    expect(r.list('sampler')).toEqual([]);
  });

  it('names the key, lists valid choices and suggests the closest on an unknown name', () => {
    const r = new PluginRegistry([linear, cosine]);
    try {
      r.get('schedule', 'linaer');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toContain('schedule.use');
      expect(msg).toContain('did you mean "linear"');
      expect(msg).toContain('valid: cosine, linear');
    }
  });

  it('refuses two plugins of one kind with the same name', () => {
    const r = new PluginRegistry([linear], 'pkg-a');
    expect(() => r.add({ ...linear }, 'pkg-b')).toThrow(PluginError);
  });

  it('suggests by edit distance', () => {
    expect(suggest('dpim', ['ddim', 'ddpm', 'euler'])).toEqual(['ddim', 'ddpm']);
    expect(suggest('zzzzzz', ['ddim'])).toEqual([]);
  });
});

describe('parseOptions', () => {
  const schema = z.object({ steps: z.number().int().positive(), mode: z.enum(['a', 'b']).default('a') }).strict();

  it('fills defaults', () => {
    expect(parseOptions(schema, { steps: 3 }, 'sampler')).toEqual({ steps: 3, mode: 'a' });
  });

  it('names full key paths, choices and did-you-mean for unknown keys', () => {
    try {
      parseOptions(schema, { steps: -1, mode: 'c', stpes: 2 }, 'sampler');
      expect.unreachable();
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('sampler.steps');
      expect(msg).toContain('sampler.mode');
      expect(msg).toContain('valid: a, b');
      expect(msg).toContain('sampler.stpes: unknown key; did you mean "steps"?');
    }
  });
});
