import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseOptions } from './options.js';
import { pathEscape, resolveInside, runFileOption } from './paths.js';
import { z } from 'zod';

describe('resolveInside', () => {
  it('resolves plain and nested names inside the directory', () => {
    expect(resolveInside('/runs/a', 'summary.json', 'file')).toBe('/runs/a/summary.json');
    expect(resolveInside('/runs/a/', './figs/../figs/loss.png', 'file')).toBe('/runs/a/figs/loss.png');
    expect(resolveInside('/runs/a', '/runs/a/x.png', 'file')).toBe('/runs/a/x.png');
    expect(resolveInside('runs/demo', 'loss.png', 'file')).toBe('runs/demo/loss.png');
    expect(resolveInside('/', 'x', 'file')).toBe('/x');
    expect(() => resolveInside('runs/demo', '/runs/demo/x', 'file')).toThrow(/outside the run directory/);
  });

  it('refuses escapes with a ConfigError naming the option key', () => {
    for (const name of ['../../summary.json', '..', 'a/../../b', '/etc/passwd', '/runs/ab/x', '/runs/a', '.', '', 'a\\..\\..\\b']) {
      let err: unknown;
      try {
        resolveInside('/runs/a', name, 'reporters[0].file');
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message, name).toMatch(/reporters\[0\]\.file: /);
      expect((err as ConfigError).message, name).toMatch(/must stay inside \/runs\/a/);
    }
  });
});

describe('pathEscape and runFileOption', () => {
  it('accepts relative names inside, and says why others are refused', () => {
    expect(pathEscape('loss.png')).toBeNull();
    expect(pathEscape('figs/loss.png')).toBeNull();
    expect(pathEscape('../x')).toMatch(/climbs out/);
    expect(pathEscape('/tmp/x')).toMatch(/absolute path/);
    expect(pathEscape('a/..')).toMatch(/run directory itself/);
  });

  it('refuses a bad name at validation time, naming the full key', () => {
    const schema = z.object({ file: runFileOption('summary.json') }).strict();
    expect(parseOptions(schema, {}, 'reporters[0]')).toEqual({ file: 'summary.json' });
    expect(() => parseOptions(schema, { file: '../../summary.json' }, 'reporters[0]')).toThrow(/reporters\[0\]\.file: "\.\.\/\.\.\/summary\.json" climbs out of the run directory/);
    expect(() => parseOptions(schema, { file: '/tmp/x.json' }, 'reporters[2]')).toThrow(/reporters\[2\]\.file: .*absolute path/);
  });
});
