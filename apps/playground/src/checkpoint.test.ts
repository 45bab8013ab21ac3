// Checkpoints both ways, in Node with the worker's engine and the real CLI code:
// - a model trained by the page's Session, packed as the page downloads it, samples through
//   `diffusionlab sample NAME-run.json` exactly as the page samples it (same seed, sampler, count);
// - a CLI run's checkpoint folder, read as dropped files, loads in a Session and samples as
//   `diffusionlab sample` on that folder does;
// - what is missing from a drop is named (no model.json, a weights file, the metadata, the config).
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { decodeNpy, useBackend } from '@diffusionlab/core';
import { mlpTrainAccelerator } from '@diffusionlab/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { loadExperiment, runExperiment, sampleRun, toDataSpace } from 'diffusionlab';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DroppedFile, findCheckpoint, packedRunName, packRun, setupFromCheckpoint } from './checkpoint.js';
import { Session } from './session.js';
import { SEED_SETUP, type Setup } from './setup.js';

/** What the `diffusionlab` CLI passes its run and sample commands (quiet): the kernels' accelerator, which `backend: auto` asks. */
const quiet = { print: () => {}, accelerator: mlpTrainAccelerator };
/** Largest |a − b| over two equal-length arrays. */
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  return Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
};
/** Every file under `dir` as a dropped file, with its path relative to `from` (as a folder drop gives it). */
function dropFolder(dir: string, from = dir): DroppedFile[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? dropFolder(p, from) : [{ path: relative(from, p), bytes: new Uint8Array(readFileSync(p)) }];
  });
}

let root: string;
beforeAll(async () => {
  await useBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'dl-playground-ckpt-'));
});

const SMALL: Setup = { ...SEED_SETUP, name: 'small', seed: 5, training: { ...SEED_SETUP.training, epochs: 20 }, samples: 400 };

describe('checkpoints both ways', () => {
  it('a page-trained model, downloaded as a packed run, samples through `diffusionlab sample` as the page samples it', async () => {
    const before = tf.memory().numTensors;
    const session = await Session.create(SMALL);
    await session.train();
    const page = await session.sample();
    const { artifacts, meta } = await session.checkpoint();
    expect(meta).toMatchObject({
      dataShape: [1],
      numTrainTimesteps: 100,
      trainingSteps: 20 * 32,
      predictionType: 'epsilon',
      final: true,
      denoiser: { use: 'seed-mlp', hidden: 128 },
    });
    const file = join(root, packedRunName(SMALL));
    writeFileSync(file, packRun(SMALL, artifacts, meta));
    const cli = await sampleRun(file, [], quiet);
    const npy = decodeNpy(new Uint8Array(readFileSync(join(cli.sampleDir, 'samples.npy'))));
    expect(npy.shape).toEqual([400, 1]);
    // The fused DDPM loop on both sides: the same kernels on the same noise.
    expect(page.path).toBe('fused:wasm-simd-mlp-ddpm');
    expect(maxAbsDiff(npy.data, page.samples)).toBe(0);
    expect((cli.summary.metrics as Record<string, number>).w1).toBeCloseTo(page.metric, 6);
    // Another sampler: the fused forward inside the sampler's tfjs loop (cpu here, wasm in the CLI).
    const ddimPage = await session.sample({ sampler: { use: 'ddim', options: { steps: 20 } } });
    const ddimCli = await sampleRun(file, ['sampler.use=ddim', 'sampler.steps=20'], quiet);
    const ddimNpy = decodeNpy(new Uint8Array(readFileSync(join(ddimCli.sampleDir, 'samples.npy'))));
    const d = maxAbsDiff(ddimNpy.data, ddimPage.samples);
    console.log(`page-trained checkpoint, ddim 20 steps: max |page − diffusionlab sample| = ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(1e-6);
    session.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a CLI run's checkpoint folder, dropped, samples as `diffusionlab sample` on that folder", async () => {
    writeFileSync(
      join(root, 'moons.yaml'),
      'name: moons\nseed: 11\nbackend: auto\ndataset: { use: moons, size: 512 }\nschedule: { use: linear, timesteps: 100 }\ndenoiser: { use: mlp, width: 32, depth: 2 }\ntraining: { epochs: 30, batchSize: 64 }\nsampler: { use: ddim, steps: 15 }\nevaluation: { samples: 300, metrics: [sliced-wasserstein] }\nreporters: [summary]\n',
    );
    const loaded = await loadExperiment(join(root, 'moons.yaml'));
    const run = await runExperiment(loaded.resolved, { out: join(root, 'moons-run'), ...quiet });
    const cli = await sampleRun(run.runDir, [], quiet);
    const npy = decodeNpy(new Uint8Array(readFileSync(join(cli.sampleDir, 'samples.npy'))));
    // The whole run folder dropped (samples/ included): the run's own config.yaml is picked, not a sample folder's.
    const ck = findCheckpoint(dropFolder(run.runDir, join(run.runDir, '..')));
    expect(ck.used.map((p) => p.split('/').slice(1).join('/'))).toEqual(['checkpoint/model.json', 'checkpoint/weights.bin', 'checkpoint/diffusionlab.json', 'config.yaml']);
    const { setup, missing } = setupFromCheckpoint(ck, SEED_SETUP);
    expect(missing).toEqual([]);
    expect(setup).toMatchObject({
      seed: 11,
      samples: 300,
      dataset: { use: 'moons' },
      denoiser: { use: 'mlp' },
      sampler: { use: 'ddim', options: { steps: 15 } },
      metric: { use: 'sliced-wasserstein' },
    });
    const session = await Session.create(setup, ck.artifacts);
    const page = await session.sample();
    // samples.npy is in data space: the toy sets train standardised (info.standardization).
    const d = maxAbsDiff(npy.data, toDataSpace(page.samples, session.dataset.info));
    console.log(`CLI checkpoint (mlp on moons, ddim 15 steps) in the page's engine: max |page − diffusionlab sample| = ${d.toExponential(2)} (${page.path})`);
    expect(d).toBeLessThanOrEqual(1e-6);
    session.dispose();
  });

  it('names what a drop lacks', async () => {
    const files = dropFolder(join(root, 'moons-run', 'checkpoint'));
    const only = (name: string) => files.filter((f) => f.path !== name);
    expect(() => findCheckpoint(only('model.json'))).toThrow(/^No model\.json among the dropped files \(.*weights\.bin.*\): drop a run's checkpoint\/ folder/);
    expect(() => findCheckpoint(only('weights.bin'))).toThrow('model.json needs weights.bin beside it: drop that file too');
    // Without diffusionlab.json or config.yaml the schedule and data shape are unknown.
    const bare = findCheckpoint(only('diffusionlab.json'));
    expect(() => setupFromCheckpoint(bare, SEED_SETUP)).toThrow(/^The model cannot be rebuilt: its schedule, denoiser and data shape are in checkpoint\/diffusionlab\.json/);
    // The checkpoint alone: the model is known, the sampler and seed are the page's own (and the note says so).
    const { setup, missing } = setupFromCheckpoint(findCheckpoint(files), SEED_SETUP);
    expect(setup.dataset.use).toBe('moons');
    expect(setup.sampler).toEqual(SEED_SETUP.sampler);
    expect(missing).toEqual([expect.stringMatching(/^config\.yaml \(the sampler, seed, sample count and metric are the page’s own/)]);
  });
});
