import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { loadTrainState } from './files.js';
import { waitFor } from './process.test-util.js';

const here = fileURLToPath(new URL('.', import.meta.url));

// Long enough (3,200 steps) that a SIGKILL after the first checkpoint lands mid-training, with a
// resumable checkpoint every 5 epochs (80 steps); the cpu backend so that runs are bit-reproducible.
const CONFIG = `
name: killed
seed: 11
backend: cpu
dataset: { use: gaussian-mixture, size: 256, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 50, betaStart: 0.0001, betaEnd: 0.05 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 200, batchSize: 16, learningRate: 0.002, emaDecay: 0.99, checkpointEvery: 5, logEvery: 10 }
sampler: { use: ddpm }
evaluation: { samples: 200, metrics: [w1] }
reporters: [{ use: summary }]
`;

/** Starts `diffusionlab run` as a real child process (the TypeScript sources, through the test hooks). */
function startRun(config: string, out: string): ChildProcess {
  return spawn(process.execPath, ['--import', join(here, '..', 'test-fixtures', 'ts-hooks.mjs'), join(here, 'bin.ts'), 'run', config, '--out', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves once `check()` holds, polling every 10 ms; rejects after `ms`. */

describe('a run killed mid-training', () => {
  it('leaves a loadable checkpoint, and --resume finishes the same trajectory to the same final step count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-kill-'));
    const cfg = join(dir, 'killed.yaml');
    writeFileSync(cfg, CONFIG);
    const killedDir = join(dir, 'killed');
    const ckpt = join(killedDir, 'checkpoint');

    const child = startRun(cfg, killedDir);
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<NodeJS.Signals | number | null>((r) => child.on('exit', (code, sig) => r(sig ?? code)));
    // Kill it hard once the second periodic checkpoint exists (so one was overwritten in place), at whatever it is doing then.
    await waitFor(
      () => {
        const s = existsSync(join(ckpt, 'train-state.json')) ? loadTrainState(ckpt) : null;
        return s !== null && s.step >= 160;
      },
      120_000,
      `a second checkpoint (child stderr: ${stderr})`,
    );
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(existsSync(join(killedDir, 'summary.json'))).toBe(false);
    // Whatever moment the kill hit, the last complete checkpoint loads, with no temp files mistaken for it.
    const state = loadTrainState(ckpt);
    expect(state).not.toBeNull();
    expect(state?.step).toBeGreaterThanOrEqual(160);
    expect(state?.step).toBeLessThan(3200);
    expect(readdirSync(ckpt).filter((f) => !f.includes('.tmp'))).toEqual(
      expect.arrayContaining(['model.json', 'weights.bin', 'diffusionlab.json', 'train-state.json', 'train-state.bin']),
    );

    const silent = { write: process.stdout.write };
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await main(['run', cfg, '--out', killedDir, '--resume'])).toBe(0);
      expect(await main(['run', cfg, '--out', join(dir, 'uninterrupted')])).toBe(0);
    } finally {
      process.stdout.write = silent.write;
    }
    const resumed = JSON.parse(readFileSync(join(killedDir, 'summary.json'), 'utf8'));
    const full = JSON.parse(readFileSync(join(dir, 'uninterrupted', 'summary.json'), 'utf8'));
    expect(resumed.training.steps).toBe(3200);
    expect(resumed.training.resumedFromStep).toBe(state?.step);
    expect(full.training.steps).toBe(3200);
    // seed-mlp, hidden 16: (2·16 + 16) + (16·16 + 16) + (16 + 1) parameters, counted before the model is freed.
    expect(resumed.parameterCount).toBe(337);
    expect(full.parameterCount).toBe(337);
    // Same trajectory: the resumed model is the uninterrupted one, so its samples and metrics are too.
    expect(resumed.training.finalLoss).toBe(full.training.finalLoss);
    expect(resumed.metrics).toEqual(full.metrics);
    expect(readFileSync(join(killedDir, 'samples.npy'))).toEqual(readFileSync(join(dir, 'uninterrupted', 'samples.npy')));
  }, 180_000);
});
