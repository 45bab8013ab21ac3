import { PluginRegistry, parseOptions } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { plugins } from './index.js';

describe('@diffusionlab/schedules index', () => {
  it('exports the four schedules, registrable without clashes', () => {
    const reg = new PluginRegistry(plugins, '@diffusionlab/schedules');
    expect(reg.names('schedule')).toEqual(['cosine', 'linear', 'scaled-linear', 'sigmoid']);
  });

  it('every option has a default and a description (they feed `diffusionlab list` and the README)', () => {
    for (const p of plugins) {
      const shape = (p.options as { shape: Record<string, { description?: string }> }).shape;
      for (const [key, field] of Object.entries(shape)) expect(field.description, `${p.name}.${key}`).toBeTruthy();
      const defaults = parseOptions(p.options, {}, 'schedule') as Record<string, unknown>;
      expect(Object.keys(defaults).sort()).toEqual(Object.keys(shape).sort());
      expect(defaults.timesteps).toBe(1000);
      expect(defaults.rescaleZeroTerminalSnr).toBe(false);
    }
  });
});
