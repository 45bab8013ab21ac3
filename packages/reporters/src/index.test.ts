import type { z } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { plugins } from './index.js';

describe('plugins', () => {
  it('are reporters with unique names, strict options with defaults, and a description on every option', () => {
    const names = plugins.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(['console', 'summary', 'jsonl', 'csv', 'histogram', 'scatter', 'trajectory', 'loss', 'schedule', 'image-grid', 'html']);
    for (const p of plugins) {
      expect(p.kind).toBe('reporter');
      expect(p.description.length).toBeGreaterThan(10);
      expect(() => p.options.parse({})).not.toThrow();
      expect(() => p.options.parse({ bogus: 1 }), p.name).toThrow();
      const shape = (p.options as z.ZodObject).shape;
      for (const [key, field] of Object.entries(shape)) expect((field as z.ZodType).description, `${p.name}.${key}`).toBeTruthy();
    }
  });

  it('create reporters whose name is the plugin name', async () => {
    for (const p of plugins) {
      const r = await p.create(p.options.parse({}), { seed: 0, interactive: false, print: () => {} });
      expect(r.name).toBe(p.name);
    }
  });
});
