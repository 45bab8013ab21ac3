import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, rmSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DiffusionLabError, decodeNpy } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { firstDifference, sampleRun } from './sample.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dl-sample-'));

/** SMALL from run.test.ts plus the loss reporter, which `sample` must leave out. */
const SMALL = `
name: small
seed: 7
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20, betaStart: 0.0001, betaEnd: 0.02 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 4, batchSize: 16, learningRate: 0.001, predictionType: epsilon, logEvery: 2 }
sampler: { use: ddpm }
evaluation: { samples: 64, metrics: [w1, modes] }
reporters: [{ use: console }, { use: histogram }, { use: loss }, { use: summary }]
`;

/** Hash of every file in the run directory except samples/, to prove `sample` never touches them. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const rel = relative(dir, p);
      if (rel === 'samples') continue;
      if (statSync(p).isDirectory()) walk(p);
      else out[rel] = `${createHash('sha256').update(readFileSync(p)).digest('hex')}:${statSync(p).mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

const quiet = { print: () => {} };
let dir: string;
let runDir: string;
let runSummary: Record<string, unknown>;

beforeAll(async () => {
  dir = tmp();
  const cfg = join(dir, 'small.yaml');
  writeFileSync(cfg, SMALL);
  const loaded = await loadExperiment(cfg);
  const res = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out: join(dir, 'run'), ...quiet });
  runDir = res.runDir;
  runSummary = res.summary;
});

describe('diffusionlab sample', () => {
  it('with the run’s own settings reproduces its samples and metrics exactly, without retraining', async () => {
    const before = fingerprint(runDir);
    const { sampleDir, summary } = await sampleRun(runDir, [], { ...quiet, out: join(dir, 'same') });
    expect(fingerprint(runDir)).toEqual(before);
    expect(readFileSync(join(sampleDir, 'samples.npy'))).toEqual(readFileSync(join(runDir, 'samples.npy')));
    expect(readFileSync(join(sampleDir, 'reference.npy'))).toEqual(readFileSync(join(runDir, 'reference.npy')));
    expect(summary.metrics).toEqual(runSummary.metrics);
    expect(summary.source).toBe(runDir);
    expect(summary.training).toEqual(runSummary.training);
  });

  it('swaps the sampler and step count; writes a sample directory under <run>/samples; leaks no tensors', async () => {
    await sampleRun(runDir, ['sampler.use=ddim', 'sampler.steps=5'], { ...quiet, out: join(dir, 'warm') });
    const before = fingerprint(runDir);
    const tensors = tf.memory().numTensors;
    const lines: string[] = [];
    const { sampleDir, summary } = await sampleRun(runDir, ['sampler.use=ddim', 'sampler.steps=5', 'evaluation.samples=32', 'seed=3'], {
      print: (l) => lines.push(l),
    });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(fingerprint(runDir)).toEqual(before);
    expect(relative(join(runDir, 'samples'), sampleDir)).toMatch(/^ddim-5-\d{8}-\d{6}$/);
    // .diffusionlab/ holds the manifest of these files (what --force may remove) and, while sampling, the lock.
    expect(readdirSync(sampleDir).sort()).toEqual(['.diffusionlab', 'config.yaml', 'env.json', 'histogram.png', 'reference.npy', 'samples.npy', 'summary.json']);
    expect(readdirSync(join(sampleDir, '.diffusionlab'))).toEqual(['manifest.json']);
    const onDisk = JSON.parse(readFileSync(join(sampleDir, 'summary.json'), 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(onDisk.source).toBe(runDir);
    expect(onDisk.sampling).toMatchObject({ sampler: 'ddim', steps: 5, nfe: 5, samples: 32 });
    expect(onDisk.sampling.seconds).toBeGreaterThan(0);
    expect(onDisk.seed).toBe(3);
    expect(onDisk.metrics.w1).toBeGreaterThan(0);
    expect(onDisk.metrics.w1NoiseFloor).toBeGreaterThan(0);
    expect(decodeNpy(new Uint8Array(readFileSync(join(sampleDir, 'samples.npy')))).shape).toEqual([32, 1]);
    // DDIM (η = 0) with 5 steps must give different samples from the run's 20-step DDPM.
    expect(readFileSync(join(sampleDir, 'samples.npy'))).not.toEqual(readFileSync(join(runDir, 'samples.npy')));
    expect(lines.some((l) => l.startsWith('Sampled 32 with ddim: 5 NFE'))).toBe(true);
    expect(lines.some((l) => l.includes(`Sampling from the checkpoint of ${runDir}`))).toBe(true);
    expect(lines).toContain('  training 16 steps (4 epochs)');
  });

  const refused: [string, RegExp][] = [
    ['schedule.timesteps=50', /schedule\.timesteps: changes the trained model's schedule \(run: 20, requested: 50\)/],
    ['schedule.use=cosine', /schedule\.use: changes the trained model's schedule/],
    ['dataset.size=10', /dataset\.size: changes the trained model's dataset/],
    ['denoiser.hidden=8', /denoiser\.hidden: changes the trained model's denoiser/],
    ['training.predictionType=v', /training\.predictionType: changes how the checkpoint was trained/],
    ['training.epochs=9', /training\.epochs: changes how the checkpoint was trained/],
  ];
  for (const [override, message] of refused) {
    it(`refuses ${override}, naming the key, and writes nothing`, async () => {
      const out = join(dir, `refused-${override}`);
      const before = existsSync(join(runDir, 'samples')) ? readdirSync(join(runDir, 'samples')).length : 0;
      await expect(sampleRun(runDir, [override], { ...quiet, out })).rejects.toThrow(message);
      await expect(sampleRun(runDir, [override], quiet)).rejects.toThrow(message);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(join(runDir, 'samples')) ? readdirSync(join(runDir, 'samples')).length : 0).toBe(before);
    });
  }

  it('accepts a model key set to the value the run already has', async () => {
    const { summary } = await sampleRun(runDir, ['schedule.timesteps=20', 'sampler.steps=4', 'evaluation.samples=16'], { ...quiet, out: join(dir, 'same-t') });
    expect((summary.sampling as { nfe: number }).nfe).toBe(4);
  });

  it('samples an unfinished run (no summary.json) from its last checkpoint, with a warning', async () => {
    const copy = join(dir, 'unfinished');
    cpSync(runDir, copy, { recursive: true });
    rmSync(join(copy, 'summary.json'));
    rmSync(join(copy, 'samples'), { recursive: true, force: true });
    const lines: string[] = [];
    const { summary } = await sampleRun(copy, ['evaluation.samples=16'], { print: (l) => lines.push(l) });
    expect(lines.some((l) => l.startsWith(`warning: ${copy} has no summary.json`) && l.endsWith('saved at step 16'))).toBe(true);
    expect(summary.training).toEqual({ steps: 16 });
    expect(existsSync(join(copy, 'summary.json'))).toBe(false);
  });

  it('refuses a directory that is not a run, with one clear message', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await expect(sampleRun(empty, [], quiet)).rejects.toThrow(/is not a run directory with a checkpoint: missing config\.yaml, checkpoint/);
    await expect(sampleRun(join(dir, 'nope'), [], quiet)).rejects.toThrow(/run directory not found/);
    await expect(sampleRun(join(dir, 'small.yaml'), [], quiet)).rejects.toThrow(/is a file, not a run directory/);
    const err = await main(['sample', empty]).catch((e) => e);
    expect(err).toBeInstanceOf(DiffusionLabError);
    expect(readdirSync(empty)).toEqual([]);
  });

  it('refuses an --out holding a run unless --force, and never writes over the run itself', async () => {
    const out = join(dir, 'twice');
    await sampleRun(runDir, ['evaluation.samples=16'], { ...quiet, out });
    await expect(sampleRun(runDir, ['evaluation.samples=16'], { ...quiet, out })).rejects.toThrow(/already holds a run; choose another --out or pass --force/);
    await sampleRun(runDir, ['evaluation.samples=16'], { ...quiet, out, force: true });
    const before = fingerprint(runDir);
    await expect(sampleRun(runDir, [], { ...quiet, out: runDir, force: true })).rejects.toThrow(/is the run directory itself/);
    await expect(sampleRun(runDir, [], { ...quiet, out: dir, force: true })).rejects.toThrow(/contains the run directory/);
    await expect(sampleRun(runDir, [], { ...quiet, out: join(runDir, 'checkpoint'), force: true })).rejects.toThrow(/inside the run's own checkpoint/);
    expect(fingerprint(runDir)).toEqual(before);
  });

  it('refuses list values and unknown flags through the CLI', async () => {
    await expect(main(['sample', runDir, 'sampler.steps=5,10'])).rejects.toThrow(/only `diffusionlab sweep`/);
    await expect(main(['sample', runDir, '--jobs', '2'])).rejects.toThrow(/unknown option --jobs for `sample`/);
    await expect(main(['sample'])).rejects.toThrow(/sample needs a run directory/);
  });
});

describe('firstDifference', () => {
  it('names the first differing leaf, preferring `use`', () => {
    expect(firstDifference({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 2 } }, 'x')).toBeNull();
    expect(firstDifference({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 3 } }, 'x')).toBe('x.b.c');
    expect(firstDifference({ use: 'a', k: 1 }, { use: 'b', k: 2 }, 's')).toBe('s.use');
    expect(firstDifference({ a: [1, 2] }, { a: [1, 3] }, 's')).toBe('s.a');
  });
});
