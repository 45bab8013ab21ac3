/**
 * Flow matching (`training.objective: flow`) came in beside DDPM with `ddpm` as the default, and a
 * config that does not name an objective must give exactly the results it gave before. This pins the
 * seed example (examples/seed-1d.yaml at 20 epochs, 400 samples) on the path it takes — the fused
 * WebAssembly training and sampling (backend wasm, as `auto` picks without tfjs-node) — and on the
 * reference tfjs path (cpu, `training.accelerate=false`) to the
 * SHA-256 of its trained weights and samples and its W1, recorded by this same test at commit
 * fe0c452 (the last one before flow matching). Any change to the DDPM batch draws, the training
 * step or the sampling loop changes a hash.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mlpTrainAccelerator } from '@diffusionlab/kernels';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';

/** What fe0c452 produced, per path: sha256 of checkpoint/weights.bin and samples.npy, and W1. */
const BEFORE_FLOW: Record<string, { weights: string; samples: string; w1: number; trainingPath: string; samplingPath: string }> = {
  fused: {
    weights: 'ad544f509661ffb4b868d5c3b2bd2d8fc2df8c4da58df7373ca9df18d9182e9d',
    samples: '7831958d304b3a9968b2910c1b63b9d542639d52c16f568df6af43514277db33',
    w1: 0.8941283244430087,
    trainingPath: 'fused:wasm-simd-mlp',
    samplingPath: 'fused:wasm-simd-mlp-ddpm',
  },
  tfjs: {
    weights: '0b977800de9617dd52a785993f58e3441f8a22d29936dea47b610cf4c44502f2',
    samples: 'ad8b3fb7c6417c8cb12b817fd3327153e39370ad0860b133b90af1c01aa4e531',
    w1: 0.89468793127744,
    trainingPath: 'tfjs',
    samplingPath: 'tfjs',
  },
};

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

async function seedRun(backend: string, overrides: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'dl-objective-'));
  const cfg = join(dir, 'seed.yaml');
  writeFileSync(
    cfg,
    readFileSync(new URL('../../../examples/seed-1d.yaml', import.meta.url), 'utf8')
      .replace('epochs: 1000', 'epochs: 20')
      .replace('backend: auto', `backend: ${backend}`)
      .replace('samples: 1000', 'samples: 400')
      .replace(/reporters: .*/, 'reporters: [{ use: summary }]'),
  );
  const loaded = await loadExperiment(cfg, overrides);
  const run = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out: join(dir, 'run'), print: () => {}, accelerator: mlpTrainAccelerator });
  const s = run.summary as { metrics: Record<string, number>; training: { path: string }; sampling: { path: string } };
  return {
    weights: sha256(join(run.runDir, 'checkpoint', 'weights.bin')),
    samples: sha256(join(run.runDir, 'samples.npy')),
    w1: s.metrics.w1,
    trainingPath: s.training.path,
    samplingPath: s.sampling.path,
  };
}

describe('a config without training.objective gives the results it gave before flow matching', () => {
  const paths = [
    { path: 'fused', backend: 'wasm', overrides: [] },
    { path: 'tfjs', backend: 'cpu', overrides: ['training.accelerate=false'] },
  ];
  for (const { path, backend, overrides } of paths) {
    it(`seed example, ${path} path: the same weights, samples and W1, bit for bit (also with objective: ddpm written out)`, async () => {
      const want = BEFORE_FLOW[path];
      expect(await seedRun(backend, overrides)).toEqual(want);
      expect(await seedRun(backend, [...overrides, 'training.objective=ddpm'])).toEqual(want);
    }, 180_000);
  }
});
