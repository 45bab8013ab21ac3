import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@diffusionlab/core';
import { FUSED_MLP_PATH, FUSED_UNET_PATH, FUSED_UNET_PREDICT_PATH } from '@diffusionlab/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { GUIDE_CHECKPOINT } from './files.js';
import { loadExperiment } from './load.js';
import { FUSED_DDPM_PATH, runExperiment, withSummaryReporter } from './run.js';
import { configRunner, npy } from './run-text.test-util.js';
import { sampleRun } from './sample.js';

const dir = mkdtempSync(join(tmpdir(), 'dl-autoguide-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { print: () => {} };

const runText = configRunner(dir);
const bytes = (path: string) => readFileSync(path).toString('hex');

// Constant learning rate and steps (not epochs), so a run that stops at the snapshot step trains exactly the snapshot's weights.
const FLOW = `
name: autoguide
seed: 4
backend: wasm
dataset: { use: moons, size: 256 }
schedule: { use: linear, timesteps: 100 }
denoiser: { use: mlp, width: 32, depth: 2, timeEmbedding: 16 }
training: { steps: 60, batchSize: 32, learningRate: 0.003, emaDecay: 0.99, objective: flow, guideSnapshotStep: 20 }
sampler: { use: flow-euler, steps: 8, autoguidance: 2 }
evaluation: { samples: 200, metrics: [w1], trajectory: 0 }
reporters: [{ use: summary }]
`;
/** The same run without a snapshot or a guide. */
const PLAIN = FLOW.replace(', guideSnapshotStep: 20', '').replace(', autoguidance: 2', '');

describe('config: sampler.autoguidance and training.guideSnapshotStep', () => {
  const resolve = async (overrides: string[]) => {
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(cfg, FLOW);
    return await loadExperiment(cfg, overrides);
  };

  it('is kept in the resolved config, beside the sampler’s own options', async () => {
    const { resolved } = await resolve([]);
    expect(resolved.autoguidance).toBe(2);
    expect(resolved.sampler.options).not.toHaveProperty('autoguidance');
  });

  it('refuses autoguidance without a snapshot to guide with, naming the key and the fix', async () => {
    await expect(resolve(['training.guideSnapshotStep=0'])).rejects.toBeInstanceOf(ConfigError);
    const cfg = join(dir, 'no-snap.yaml');
    writeFileSync(cfg, FLOW.replace(', guideSnapshotStep: 20', ''));
    await expect(loadExperiment(cfg)).rejects.toThrow(
      /sampler\.autoguidance: steers the model away from its own early snapshot, and this config saves none \(set training\.guideSnapshotStep/,
    );
  });

  it('refuses a negative or non-numeric weight', async () => {
    await expect(resolve(['sampler.autoguidance=-1'])).rejects.toThrow(/sampler\.autoguidance: must be a finite number ≥ 0/);
    await expect(resolve(['sampler.autoguidance=strong'])).rejects.toThrow(/sampler\.autoguidance: must be a finite number ≥ 0/);
  });

  it('refuses a snapshot step at or past the end of training before creating the run directory', async () => {
    const out = join(dir, 'late-snap');
    const cfg = join(dir, 'late.yaml');
    writeFileSync(cfg, FLOW);
    const loaded = await loadExperiment(cfg, ['training.guideSnapshotStep=60']);
    await expect(runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out, ...quiet })).rejects.toThrow(
      /training\.guideSnapshotStep: is 60, but the run trains 60 steps/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('a run with autoguidance', () => {
  for (const accelerate of [false, true]) {
    it(`saves the EMA weights of the snapshot step as its guide and samples with it (${accelerate ? 'fused' : 'tfjs'} training)`, async () => {
      const tag = accelerate ? 'fused' : 'tfjs';
      const run = await runText(`ag-${tag}`, FLOW, [], accelerate);
      expect(run.summary.training.path).toBe(accelerate ? 'fused:wasm-simd-mlp' : 'tfjs');
      expect(run.summary.sampling.autoguidance).toEqual({ weight: 2, guideStep: 20 });
      // The guide is what a run stopped at step 20 ends with (its final, EMA, weights), byte for byte.
      const short = await runText(`short-${tag}`, PLAIN, ['training.steps=20'], accelerate);
      expect(bytes(join(run.out, GUIDE_CHECKPOINT, 'weights.bin'))).toBe(bytes(join(short.out, 'checkpoint', 'weights.bin')));
      const meta = JSON.parse(readFileSync(join(run.out, GUIDE_CHECKPOINT, 'diffusionlab.json'), 'utf8'));
      expect(meta.trainingSteps).toBe(20);
      // The snapshot does not disturb training: the final weights equal a run without it.
      const plain = await runText(`plain-${tag}`, PLAIN, [], accelerate);
      expect(bytes(join(run.out, 'checkpoint', 'weights.bin'))).toBe(bytes(join(plain.out, 'checkpoint', 'weights.bin')));
      // w = 1 is the model alone: the same samples as the run without autoguidance.
      const one = await sampleRun(run.out, ['sampler.autoguidance=1'], { ...quiet, out: join(dir, `one-${tag}`) });
      expect(npy(join(one.sampleDir, 'samples.npy'))).toEqual(npy(join(plain.out, 'samples.npy')));
      // `sample` with the run's own settings reproduces the run's guided samples, which differ from the unguided ones.
      const again = await sampleRun(run.out, [], { ...quiet, out: join(dir, `again-${tag}`) });
      const guided = npy(join(run.out, 'samples.npy'));
      expect(npy(join(again.sampleDir, 'samples.npy'))).toEqual(guided);
      const meanAbsDiff = guided.reduce((s, v, i) => s + Math.abs(v - npy(join(plain.out, 'samples.npy'))[i]), 0) / guided.length;
      expect(meanAbsDiff).toBeGreaterThan(1e-3);
    });
  }

  it('the fused U-Net on two threads saves its snapshot step’s EMA weights as the guide', async () => {
    const UNET = `
name: autoguide-unet
seed: 2
backend: wasm
dataset: { use: digits, resolution: 14, size: 64 }
schedule: { use: linear, timesteps: 20 }
denoiser: { use: unet, channels: 4, timeEmbedding: 8 }
training: { steps: 12, batchSize: 16, threads: 2, emaDecay: 0.9, objective: flow, guideSnapshotStep: 5 }
sampler: { use: flow-euler, steps: 3, autoguidance: 2.5 }
evaluation: { samples: 8, metrics: [], trajectory: 0 }
reporters: [{ use: summary }]
`;
    const run = await runText('ag-unet', UNET, [], true);
    expect(run.summary.training.path).toBe(FUSED_UNET_PATH);
    expect(run.summary.sampling.path).toBe(FUSED_UNET_PREDICT_PATH);
    const short = await runText('short-unet', UNET.replace(', guideSnapshotStep: 5', '').replace(', autoguidance: 2.5', ''), ['training.steps=5'], true);
    expect(bytes(join(run.out, GUIDE_CHECKPOINT, 'weights.bin'))).toBe(bytes(join(short.out, 'checkpoint', 'weights.bin')));
  }, 120_000);

  it('a DDPM sampler whose whole loop the kernels run samples an autoguided model through its own loop instead', async () => {
    // The whole-loop kernel runs plain MLPs (seed-mlp).
    const DDPM = FLOW.replace(', objective: flow', '')
      .replace('{ use: mlp, width: 32, depth: 2, timeEmbedding: 16 }', '{ use: seed-mlp, hidden: 16 }')
      .replace('{ use: flow-euler, steps: 8, autoguidance: 2 }', '{ use: ddpm, autoguidance: 2 }');
    const run = await runText('ag-ddpm', DDPM, [], true);
    // The fused forward pass inside the sampler's loop, for the model and its guide; not the one-model whole loop.
    expect(run.summary.sampling.path).toBe(FUSED_MLP_PATH);
    expect(run.summary.sampling.autoguidance).toEqual({ weight: 2, guideStep: 20 });
    const alone = await sampleRun(run.out, ['sampler.autoguidance=1'], { ...quiet, out: join(dir, 'ddpm-alone') });
    expect(alone.summary.sampling.path).toBe(FUSED_DDPM_PATH);
  });

  it('samples with w = 0 exactly what the snapshot alone samples', async () => {
    const run = await runText('ag-w0', FLOW, ['sampler.autoguidance=0']);
    const short = await runText('short-w0', PLAIN, ['training.steps=20']);
    const a = npy(join(run.out, 'samples.npy'));
    const b = npy(join(short.out, 'samples.npy'));
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 5));
  });

  it('`sample` of a run whose guide is missing fails with the fix, and writes no sample directory', async () => {
    const run = await runText('ag-missing', FLOW);
    rmSync(join(run.out, GUIDE_CHECKPOINT), { recursive: true });
    const before = readdirSync(run.out).sort();
    await expect(sampleRun(run.out, [], { ...quiet })).rejects.toThrow(/sampler\.autoguidance needs the guide snapshot .*guide-checkpoint, and the run has none/);
    expect(readdirSync(run.out).sort()).toEqual(before);
    // With w = 1 (the model alone) no guide is read: the run samples as one trained without autoguidance.
    const alone = await sampleRun(run.out, ['sampler.autoguidance=1'], { ...quiet, out: join(dir, 'missing-alone') });
    expect(YAML.parse(readFileSync(join(alone.sampleDir, 'config.yaml'), 'utf8')).sampler.autoguidance).toBe(1);
    expect(alone.summary.sampling).not.toHaveProperty('autoguidance');
  });
});
