import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, META_DIR } from './run-dir.js';
import { BIN, waitFor } from './process.test-util.js';

// Trains far longer than the test waits (it is killed), with a resumable checkpoint every 5 epochs.
const LIVE = `
name: live
seed: 11
backend: cpu
dataset: { use: gaussian-mixture, size: 256, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 50, betaStart: 0.0001, betaEnd: 0.05 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 100000, batchSize: 16, learningRate: 0.002, checkpointEvery: 5, logEvery: 10 }
sampler: { use: ddpm }
evaluation: { samples: 64, metrics: [w1] }
reporters: [{ use: summary }]
`;

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the CLI to completion: exit code and everything it printed. */
function cliDone(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = cli(args);
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  return new Promise((r) => child.on('close', (code) => r({ code, out })));
}

describe('one process per run directory (real processes)', () => {
  it('refuses run --force and run --resume on a live directory, naming the PID; a killed holder’s lock is taken over', async () => {
    expect(existsSync(BIN), `${BIN} is missing: run \`pnpm build\` first`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'dl-lock-'));
    const cfg = join(dir, 'live.yaml');
    writeFileSync(cfg, LIVE);
    const out = join(dir, 'live');

    const first = cli(['run', cfg, '--out', out]);
    const exited = new Promise<void>((r) => first.on('exit', () => r()));
    try {
      await waitFor(() => existsSync(join(out, 'checkpoint', 'train-state.json')), 60_000, 'the first run to write a resumable checkpoint');
      const lock = JSON.parse(readFileSync(join(out, META_DIR, LOCK_FILE), 'utf8'));
      expect(lock.pid).toBe(first.pid);
      // (`sample --out` on a live directory meets the same lock: sample-trust.test.ts.)
      const [forced, resumed] = await Promise.all([cliDone(['run', cfg, 'seed=2', '--out', out, '--force']), cliDone(['run', cfg, '--out', out, '--resume'])]);
      for (const r of [forced, resumed]) {
        expect(r.code, r.out).not.toBe(0);
        expect(r.out).toMatch(new RegExp(`is in use by diffusionlab process ${first.pid} on `));
        expect(r.out).not.toMatch(/\n\s+at /);
      }
      // Nothing of the refused runs reached the live directory.
      expect(YAML.parse(readFileSync(join(out, 'config.yaml'), 'utf8')).seed).toBe(11);
      expect(existsSync(join(out, 'summary.json'))).toBe(false);
    } finally {
      first.kill('SIGKILL');
      await exited;
    }

    // The killed run left its lock; the next run takes it over with a message, replaces the run, and releases it.
    expect(existsSync(join(out, META_DIR, LOCK_FILE))).toBe(true);
    const next = await cliDone(['run', cfg, 'seed=2', 'training.epochs=2', '--out', out, '--force']);
    expect(next.code, next.out).toBe(0);
    expect(next.out).toMatch(new RegExp(`Taking over the lock of ${out}: diffusionlab process ${first.pid} on .* is gone`));
    expect(YAML.parse(readFileSync(join(out, 'config.yaml'), 'utf8')).seed).toBe(2);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).seed).toBe(2);
    expect(existsSync(join(out, META_DIR, LOCK_FILE))).toBe(false);
  }, 120_000);
});
