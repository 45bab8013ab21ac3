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
import { ENTRY_FIELDS, parseBenchArgs, runBench } from './bench/run.mjs';

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
  });

  it('rejects unknown options and workloads, naming the valid ones', () => {
    expect(() => parseBenchArgs(['--only', 'seed-train,nope'], root)).toThrow(/unknown workload "nope" \(valid: seed-train, seed-sample/);
    expect(() => parseBenchArgs(['--reps', '0'], root)).toThrow(/--reps must be a positive integer/);
    expect(() => parseBenchArgs(['--out'], root)).toThrow(/--out needs a value/);
    expect(() => parseBenchArgs(['--fast'], root)).toThrow(/valid: --quick/);
    expect(parseBenchArgs([], root)).toMatchObject({ quick: false, only: null, out: join(root, 'bench.json') });
  });
});
