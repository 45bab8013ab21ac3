// `pnpm bench` cannot rot: the quick seed-train workload runs here on the packages' sources (no
// build needed) through the same driver as scripts/bench.mjs, and bench.json's schema is checked.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@diffusionlab/core';
import * as kernels from '@diffusionlab/kernels';
import { describe, expect, it } from 'vitest';
import * as runner from '../apps/runner/src/index.js';
import { loadTf } from './bench/lib.mjs';
import { ENTRY_FIELDS, parseBenchArgs, runBench, TRAIN_TIMING_LINE } from './bench/run.mjs';
import { prepare, trainOnce, warmupSteps } from './bench/workloads.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('pnpm bench', () => {
  it('--quick --only seed-train prints one line per path and writes bench.json with the documented schema, default path first', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'bench-')), 'bench.json');
    const o = parseBenchArgs(['--quick', '--only', 'seed-train', '--out', out], root);
    const lines: string[] = [];
    const code = await runBench({ tf: await loadTf(root), core, kernels, runner }, o, (l: string) => lines.push(l));
    expect(code).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.quick).toBe(true);
    const entries = doc.workloads as Record<string, unknown>[];
    // with @tensorflow/tfjs-node installed its rows follow the default (backend auto keeps the fused MLP on wasm)
    const tensorflow = lines.some((l) => l.startsWith('tensorflow backend: measured'));
    if (!tensorflow) expect(lines).toContain('tensorflow backend: skipped: tfjs-node not installed — see docs/tfjs-node-from-wheel.md');
    expect(entries.map((e) => `${e.backend}/${e.path}`)).toEqual([
      'wasm/fused',
      ...(tensorflow ? ['tensorflow/fused', 'tensorflow/tfjs'] : []),
      'wasm/tfjs+matmul-fix',
      'wasm/tfjs',
      'cpu/tfjs',
    ]);
    for (const e of entries) {
      for (const [key, type] of Object.entries(ENTRY_FIELDS)) expect(typeof e[key], `${e.path}.${key}`).toBe(type);
      expect(e).toMatchObject({ name: 'seed-train', unit: 'steps/s', reps: 3 });
      const [min, median, max] = [e.min, e.median, e.max] as number[];
      expect(min).toBeGreaterThan(0);
      expect(min).toBeLessThanOrEqual(median);
      expect(median).toBeLessThanOrEqual(max);
      expect(e.values as number[]).toHaveLength(3);
      expect(e.numTensorsAfter).toBe(e.numTensorsBefore);
    }
    expect(lines.filter((l) => l.startsWith('seed-train '))).toHaveLength(entries.length);
    expect(lines.at(-1)).toContain(out);
    // every training entry says what its figure times: stepsPerRep steps after warmupSteps untimed ones
    for (const e of entries) expect(e).toMatchObject({ timed: 'steps', warmupSteps: warmupSteps(e.stepsPerRep as number) });
    expect(entries[0]).toMatchObject({ stepsPerRep: 1000, warmupSteps: 125 });
    expect(lines).toContain(TRAIN_TIMING_LINE);
  });

  it('training rows time only the steps after the warm-up: a slow path setup and a slow first step leave the figure alone', async () => {
    const m = { tf: await loadTf(root), core, kernels, runner };
    const prep = await prepare(m, runner.readConfigFile(join(root, 'examples', 'seed-1d.yaml')), 'wasm');
    const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    const delay = 400;
    let stepsRun = 0;
    // the fused accelerator with a deliberately slow setup and first step (what a wasm compile, worker start or first-step trace costs)
    const slow = {
      name: 'slow-first-step',
      create(ctx: Parameters<typeof kernels.mlpTrainAccelerator.create>[0]) {
        sleep(delay);
        const path = kernels.mlpTrainAccelerator.create(ctx);
        if (typeof path === 'string') return path;
        const step = path.step.bind(path);
        path.step = (batch, lr) => {
          if (stepsRun++ === 0) sleep(delay);
          step(batch, lr);
        };
        return path;
      },
    };
    const steps = 64;
    const res = await trainOnce(m, prep, steps, slow);
    expect(res.path).toMatch(/^fused/);
    expect(res).toMatchObject({ timedSteps: steps, warmupSteps: warmupSteps(steps) });
    expect(warmupSteps(steps)).toBe(8);
    expect(stepsRun).toBe(steps + 8);
    expect(res.rate).toBeCloseTo(steps / res.seconds, 6);
    // 64 fused seed steps take milliseconds; the 2 × 400 ms of setup and first step are outside the timer
    expect(res.seconds).toBeLessThan(delay / 1000);
    // the whole train() call (warm-up 0, as the bench timed training before) carries both delays
    stepsRun = 0;
    const whole = await trainOnce(m, prep, steps, slow, 0);
    expect(stepsRun).toBe(steps);
    expect(whole.seconds).toBeGreaterThanOrEqual((2 * delay) / 1000);
  });

  it('rejects unknown options and workloads, naming the valid ones', () => {
    expect(() => parseBenchArgs(['--only', 'seed-train,nope'], root)).toThrow(/unknown workload "nope" \(valid: seed-train, seed-sample/);
    expect(() => parseBenchArgs(['--reps', '0'], root)).toThrow(/--reps must be a positive integer/);
    expect(() => parseBenchArgs(['--out'], root)).toThrow(/--out needs a value/);
    expect(() => parseBenchArgs(['--fast'], root)).toThrow(/valid: --quick/);
    expect(parseBenchArgs([], root)).toMatchObject({ quick: false, only: null, out: join(root, 'bench.json') });
  });
});
