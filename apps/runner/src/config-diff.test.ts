import { describe, expect, it } from 'vitest';
import { diffKeys, firstDifference } from './config-diff.js';

describe('diffKeys', () => {
  it('lists every differing leaf as a dotted key, a plugin’s use first, whatever the key order', () => {
    const a = { seed: 1, sampler: { steps: 10, use: 'ddim', eta: 0 }, schedule: { use: 'linear', timesteps: 100 } };
    const b = { schedule: { timesteps: 100, use: 'linear' }, sampler: { eta: 1, steps: 20, use: 'ddpm' }, seed: 1 };
    expect(diffKeys(a, b)).toEqual(['sampler.use', 'sampler.steps', 'sampler.eta']);
    expect(diffKeys(a, structuredClone(a))).toEqual([]);
    expect(diffKeys({ schedule: a.schedule }, { schedule: b.schedule })).toEqual([]);
  });

  it('compares arrays and scalars whole, and names keys present on one side only', () => {
    expect(diffKeys({ m: [1, 2] }, { m: [1, 3] })).toEqual(['m']);
    expect(diffKeys({ a: { b: 1 } }, { a: 1 })).toEqual(['a']);
    expect(diffKeys({ a: 1 }, { a: 1, extra: { x: 1 } })).toEqual(['extra']);
    expect(diffKeys(1, 2)).toEqual(['(root)']);
    expect(diffKeys(1, 2, 'seed')).toEqual(['seed']);
  });

  it('firstDifference is its first key, null when equal', () => {
    expect(firstDifference({ k: 1, use: 'a' }, { k: 2, use: 'b' }, 'sampler')).toBe('sampler.use');
    expect(firstDifference({ k: 1 }, { k: 1 }, 'sampler')).toBeNull();
  });
});
