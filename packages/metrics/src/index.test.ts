import { ConfigError, type Metric, parseOptions } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { plugins } from './index.js';

describe('plugins', () => {
  it('are uniquely named metric plugins whose options all default and are described', async () => {
    const names = plugins.map((p) => p.name);
    expect(names).toEqual([
      'w1',
      'sliced-wasserstein',
      'mmd',
      'energy',
      'modes',
      'pixel-stats',
      'component-accuracy',
      'class-diversity',
      'digit-classifier',
      'digit-accuracy',
      'digit-inception-score',
      'digit-frechet-distance',
    ]);
    for (const p of plugins) {
      expect(p.kind).toBe('metric');
      expect(p.description.length).toBeGreaterThan(10);
      const shape = (p.options as unknown as { shape: Record<string, { description?: string }> }).shape;
      for (const [key, field] of Object.entries(shape)) expect(field.description, `${p.name}.${key}`).toBeTruthy();
      const metric = (await p.create(parseOptions(p.options, {}, `metrics[0]`), { seed: 0, print: () => {}, interactive: false })) as Metric;
      expect(metric.name).toBe(p.name);
      // Distances are lower-is-better; the digit classifier's confident share, its Inception Score and the conditional metrics are scores.
      expect(metric.higherIsBetter).toBe(['digit-classifier', 'component-accuracy', 'class-diversity', 'digit-accuracy', 'digit-inception-score'].includes(p.name));
    }
  });

  it('reject unknown option keys with the full path', () => {
    const mmd = plugins.find((p) => p.name === 'mmd')!;
    expect(() => parseOptions(mmd.options, { maxPoint: 10 }, 'metrics[2]')).toThrow(ConfigError);
    expect(() => parseOptions(mmd.options, { maxPoint: 10 }, 'metrics[2]')).toThrow(/metrics\[2\]\.maxPoint: unknown key; did you mean "maxPoints"/);
  });
});
