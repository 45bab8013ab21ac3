import { describe, expect, it } from 'vitest';
import { canonicalJson, defineLauncher, etaSeconds, isLauncherDefinition } from './launcher.js';
import { z } from 'zod';

describe('launcher spec', () => {
  it('canonical JSON is independent of key order at every level, and keeps array order', () => {
    const a = { b: 1, a: { d: [2, 1], c: 'x' } };
    const b = { a: { c: 'x', d: [2, 1] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"c":"x","d":[2,1]},"b":1}');
    expect(canonicalJson({ a: { d: [1, 2] } })).not.toBe(canonicalJson({ a: { d: [2, 1] } }));
  });

  it('the ETA is the remaining trials at the observed seconds per finished trial', () => {
    // 4 of 10 done in 20 s → 5 s a trial → 6 × 5 = 30 s to go.
    expect(etaSeconds(4, 10, 20)).toBe(30);
    expect(etaSeconds(0, 10, 5)).toBeUndefined();
    expect(etaSeconds(10, 10, 50)).toBe(0);
  });

  it('recognises a launcher definition by shape, not by identity', () => {
    const def = defineLauncher({ kind: 'launcher', name: 'x', description: 'd', options: z.object({}), create: () => ({ name: 'x', launch: async () => {} }) });
    expect(isLauncherDefinition(def)).toBe(true);
    expect(isLauncherDefinition({ ...def })).toBe(true);
    expect(isLauncherDefinition({ kind: 'sampler', name: 'x', create: () => null })).toBe(false);
    expect(isLauncherDefinition(null)).toBe(false);
  });
});
