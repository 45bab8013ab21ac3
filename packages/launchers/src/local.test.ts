import type { LaunchContext, LaunchProgress, Trial, TrialPlace, TrialResult } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { localLauncher, oneLine } from './local.js';

const trial = (id: string, modelFrom?: string): Trial => ({ id, name: `p-${id}`, modelFrom, payload: {} });

/** A context whose executor records calls and fails the ids in `failing` (every time). */
function context(failing: Set<string>, delayMs = 5) {
  const results: TrialResult[] = [];
  const calls: { id: string; place: TrialPlace }[] = [];
  const progress: LaunchProgress[] = [];
  let running = 0;
  let maxRunning = 0;
  const ctx: LaunchContext = {
    sweepDir: '/sweep',
    trialDir: (id) => `/sweep/${id}`,
    async execute(t, place) {
      calls.push({ id: t.id, place });
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, delayMs));
      running--;
      if (failing.has(t.id)) throw new Error('training diverged: NaN loss\n    at step (train.js:1:1)');
      return { metrics: { w1: Number(t.id.length) } };
    },
    onResult: (r) => results.push(r),
    onProgress: (p) => progress.push(p),
    print: () => {},
  };
  return { ctx, results, calls, progress, maxRunning: () => maxRunning };
}

describe('local launcher', () => {
  it('trains up to `jobs` at a time in forked processes, then samples from each trained model in this process', async () => {
    const trials = [trial('a'), trial('a2', 'a'), trial('b'), trial('b2', 'b'), trial('c')];
    const c = context(new Set());
    await localLauncher.create(localLauncher.options.parse({ jobs: 2 })).launch(trials, c.ctx);
    expect(c.maxRunning()).toBe(2);
    expect(c.calls.map((x) => x.id)).toEqual(['a', 'b', 'c', 'a2', 'b2']);
    expect(c.calls.slice(0, 3).every((x) => x.place.isolate)).toBe(true);
    expect(c.calls.slice(3).map((x) => [x.place.isolate, x.place.modelDir, x.place.outDir])).toEqual([
      [false, '/sweep/a', '/sweep/a2'],
      [false, '/sweep/b', '/sweep/b2'],
    ]);
    expect(c.results.map((r) => [r.id, r.status, r.attempts])).toEqual([
      ['a', 'complete', 1],
      ['b', 'complete', 1],
      ['c', 'complete', 1],
      ['a2', 'complete', 1],
      ['b2', 'complete', 1],
    ]);
    const last = c.progress[c.progress.length - 1];
    expect(last).toMatchObject({ total: 5, done: 5, running: 0, failed: 0, etaSeconds: 0 });
  });

  it('one job runs everything in this process, one at a time', async () => {
    const c = context(new Set());
    await localLauncher.create(localLauncher.options.parse({})).launch([trial('a'), trial('b')], c.ctx);
    expect(c.maxRunning()).toBe(1);
    expect(c.calls.every((x) => !x.place.isolate)).toBe(true);
  });

  it('a trial that always fails is started `attempts` times, recorded with its first error line, and its samplers fail without running', async () => {
    const c = context(new Set(['a']));
    await localLauncher.create(localLauncher.options.parse({ attempts: 3 })).launch([trial('a'), trial('a2', 'a'), trial('b')], c.ctx);
    expect(c.calls.map((x) => x.id)).toEqual(['a', 'a', 'a', 'b']);
    expect(c.results).toEqual([
      { id: 'a', status: 'failed', error: 'training diverged: NaN loss', attempts: 3 },
      { id: 'b', status: 'complete', summary: { metrics: { w1: 1 } }, attempts: 1 },
      { id: 'a2', status: 'failed', error: 'its model (p-a) failed to train', attempts: 0 },
    ]);
    expect(c.progress[c.progress.length - 1]).toMatchObject({ done: 3, failed: 2, running: 0 });
  });

  it('a sampling trial whose model was trained before (a resumed sweep) runs with that model', async () => {
    const c = context(new Set());
    await localLauncher.create(localLauncher.options.parse({})).launch([trial('a2', 'a')], c.ctx);
    expect(c.calls[0].place.modelDir).toBe('/sweep/a');
  });

  it('a multi-line error (a config error listing its problems) becomes one line', () => {
    expect(oneLine(new Error('Invalid config:\n  - sampler.steps: too many\n  - seed: not a number'))).toBe('Invalid config: sampler.steps: too many; seed: not a number');
  });

  it('refuses options it does not know, naming them', () => {
    const r = localLauncher.options.safeParse({ jobs: 0, redis: 'redis://x' });
    expect(r.success).toBe(false);
  });
});
