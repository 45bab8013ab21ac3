/**
 * A training trial started again where an earlier attempt left a checkpoint (the local launcher's
 * trial folder after a killed sweep) resumes from it, and ends exactly where an uninterrupted run does.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadAccelerator } from './cli.js';
import { hasResumableCheckpoint, runTrialHere, type TrialPayload } from './trial.js';

const here = fileURLToPath(new URL('.', import.meta.url));

// 1,600 steps with a checkpoint every 5 epochs (20 steps): a SIGKILL after the first lands mid-training.
const CONFIG = `
name: trial
seed: 5
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20, betaStart: 0.0001, betaEnd: 0.02 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 400, batchSize: 16, learningRate: 0.001, emaDecay: 0.99, checkpointEvery: 5, logEvery: 100 }
sampler: { use: ddpm }
evaluation: { samples: 64, metrics: [w1] }
reporters: [{ use: summary }]
`;

describe('a training trial with an earlier attempt’s checkpoint', () => {
  it('resumes from it after the trial process was killed, with the metrics of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-trial-test-'));
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, CONFIG);
    const payload: TrialPayload = { mode: 'train', configPath: cfg, overrides: [], raw: {}, argv: ['sweep'] };
    const outDir = join(dir, 'killed');
    const spec = join(dir, 'trial.json');
    writeFileSync(spec, JSON.stringify({ payload, outDir }));
    // The trial process as the local launcher forks it; killed once its first checkpoint is in the folder.
    const child = spawn(process.execPath, ['--import', join(here, '..', 'test-fixtures', 'ts-hooks.mjs'), join(here, 'trial-child.ts'), spec], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('close', r));
    const t0 = Date.now();
    while (!existsSync(join(outDir, 'checkpoint', 'train-state.json')) && child.exitCode === null && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await exited;
    expect(hasResumableCheckpoint(outDir)).toBe(true);

    const accelerator = await loadAccelerator();
    const lines: string[] = [];
    const resumed = await runTrialHere(payload, { outDir, print: (l) => lines.push(l) }, dir, accelerator);
    const fresh = await runTrialHere(payload, { outDir: join(dir, 'fresh'), print: () => {} }, dir, accelerator);
    const step = (resumed.training as { resumedFromStep?: number }).resumedFromStep;
    expect(step).toBeGreaterThan(0);
    expect(step).toBeLessThan(1600);
    expect((fresh.training as { resumedFromStep?: number }).resumedFromStep).toBeUndefined();
    expect(resumed.metrics).toEqual(fresh.metrics);
    expect(JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')).metrics).toEqual(fresh.metrics);
    expect(hasResumableCheckpoint(outDir)).toBe(false);
  }, 120_000);
});
