// Data from the user, in Node with the page's engine and the real CLI: a dropped CSV (the page's
// `file` dataset over its bytes) trains in the page, and its exported YAML, saved beside the CSV,
// runs with `diffusionlab run`; a page-trained model on it, downloaded as a packed run (the CSV rides
// along), samples through `diffusionlab sample` exactly as the page samples it. Drawn points export
// inline (`dataset: points`) and run with `diffusionlab run` as they are.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, useBackend } from '@diffusionlab/core';
import { fileSlot, pointsSlot } from '@diffusionlab/datasets';
import { mlpTrainAccelerator } from '@diffusionlab/kernels';
import { loadExperiment, runExperiment, sampleRun, toDataSpace } from 'diffusionlab';
import { beforeAll, describe, expect, it } from 'vitest';
import { holdDataFile } from './catalog.js';
import { packRun } from './checkpoint.js';
import { Session } from './session.js';
import { SEED_SETUP, type Setup, toExperimentYaml } from './setup.js';

/** What the `diffusionlab` CLI passes its run and sample commands (quiet): the kernels' accelerator, which `backend: auto` asks. */
const quiet = { print: () => {}, accelerator: mlpTrainAccelerator };
let root: string;
beforeAll(async () => {
  await useBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'dl-playground-data-'));
});

/** A small 2-D setup on `dataset`, as the page would train it. */
const on = (dataset: Setup['dataset'], name: string): Setup => ({
  ...SEED_SETUP,
  name,
  seed: 3,
  dataset,
  schedule: { use: 'cosine', options: { timesteps: 50 } },
  denoiser: { use: 'mlp', options: { width: 32, depth: 2 } },
  sampler: { use: 'ddpm', options: {} },
  training: { epochs: 5, batchSize: 32 },
  samples: 200,
  metric: { use: 'sliced-wasserstein', options: {} },
});

describe('data from the user', () => {
  it('a dropped CSV trains in the page, its YAML runs with diffusionlab run, its packed run samples as the page', async () => {
    // A noisy ring with a header row, as a user's export would have.
    const rows = Array.from({ length: 300 }, (_, i) => [2 * Math.cos(i * 0.37) + 0.05 * Math.sin(i * 7.1), 2 * Math.sin(i * 0.37) + 0.05 * Math.cos(i * 5.3)]);
    const csv = `x,y\n${rows.map((r) => r.map((v) => v.toFixed(5)).join(',')).join('\n')}\n`;
    holdDataFile('ring.csv', new TextEncoder().encode(csv));
    const setup = on({ ...fileSlot('ring.csv'), options: { ...fileSlot('ring.csv').options, standardize: true } }, 'ring');
    const session = await Session.create(setup);
    expect(session.dataset.shape).toEqual([2]);
    await session.train();
    const page = await session.sample();

    // The exported YAML beside the CSV: `diffusionlab run` reads the same file (relative to the config) and trains.
    writeFileSync(join(root, 'ring.csv'), csv);
    writeFileSync(join(root, 'ring.yaml'), toExperimentYaml(setup));
    const loaded = await loadExperiment(join(root, 'ring.yaml'));
    const run = await runExperiment(loaded.resolved, { out: join(root, 'ring-cli'), ...quiet });
    expect(run.summary.training).toMatchObject({ steps: 5 * 9 }); // 270 training rows (10 % held out) in batches of 32

    // The page's checkpoint with the CSV packed beside config.yaml: `diffusionlab sample` draws the page's samples.
    const { artifacts, meta } = await session.checkpoint();
    writeFileSync(join(root, 'ring-run.json'), packRun(setup, artifacts, meta, { 'ring.csv': new TextEncoder().encode(csv) }));
    const cli = await sampleRun(join(root, 'ring-run.json'), [], quiet);
    expect(readFileSync(join(root, 'ring-run', 'ring.csv'), 'utf8')).toBe(csv);
    const npy = decodeNpy(new Uint8Array(readFileSync(join(cli.sampleDir, 'samples.npy'))));
    const mine = toDataSpace(page.samples, session.dataset.info);
    expect(Array.from(npy.data).reduce((m, v, i) => Math.max(m, Math.abs(v - mine[i])), 0)).toBe(0);
    session.dispose();
  });

  it('drawn points export inline as `dataset: points` and run with diffusionlab run', async () => {
    const drawn = Array.from({ length: 60 }, (_, i) => [Math.round(1000 * (i % 2 ? 1 : -1) * (1 + 0.01 * i)) / 1000, Math.round(1000 * Math.sin(i)) / 1000]);
    const setup = on(pointsSlot(drawn), 'drawn');
    const yaml = toExperimentYaml(setup);
    expect(yaml).toContain('use: points');
    writeFileSync(join(root, 'drawn.yaml'), yaml);
    const loaded = await loadExperiment(join(root, 'drawn.yaml'));
    expect(loaded.resolved.dataset.options).toMatchObject({ points: drawn, holdout: 0.1 });
    const run = await runExperiment(loaded.resolved, { out: join(root, 'drawn-cli'), ...quiet });
    expect(run.summary.training).toMatchObject({ steps: 5 * 2 }); // 54 training rows in batches of 32
    // The same setup trains in the page's engine.
    const session = await Session.create(setup);
    expect((await session.train()).steps).toBe(10);
    session.dispose();
  });
});
