import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, META_DIR } from './run-dir.js';
import { BIN, waitFor } from './process.test-util.js';

// Trains far longer than the test waits (it is interrupted), with a resumable checkpoint every 5 epochs.
const LIVE = `
name: live-sweep
seed: 3
backend: cpu
dataset: { use: gaussian-mixture, size: 256, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 50, betaStart: 0.0001, betaEnd: 0.05 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 100000, batchSize: 16, learningRate: 0.002, checkpointEvery: 5, logEvery: 10, accelerate: false }
sampler: { use: ddpm }
evaluation: { samples: 64, metrics: [w1] }
reporters: [{ use: summary }]
`;

/** A CLI process with everything it prints collected, and a promise of its exit code. */
function cli(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  return { child, out: () => out, exited: new Promise((r) => child.on('close', (code) => r(code))) };
}

describe('an interrupted sweep (real processes)', () => {
  it('stops its trial processes on SIGINT, keeps their checkpoints, releases the folder, and the same command resumes', async () => {
    expect(existsSync(BIN), `${BIN} is missing: run \`pnpm build\` first`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'dl-sweep-int-'));
    const cfg = join(dir, 'live.yaml');
    writeFileSync(cfg, LIVE);
    const out = join(dir, 'sweep');
    const args = ['sweep', cfg, 'seed=1,2', '--jobs', '2', '--out', out];
    const points = [join(out, 'seed-1'), join(out, 'seed-2')];
    const lock = (d: string) => join(d, META_DIR, LOCK_FILE);

    const first = cli(args);
    try {
      await waitFor(() => points.every((p) => existsSync(join(p, 'checkpoint', 'train-state.json'))), 90_000, 'both trials to write a checkpoint');
      expect(existsSync(lock(out))).toBe(true);
      first.child.kill('SIGINT');
      expect(await first.exited, first.out()).toBe(130);
    } finally {
      first.child.kill('SIGKILL');
    }
    expect(first.out()).toMatch(/sweep interrupted by SIGINT: 0 of 2 trial\(s\) complete in .*; 2 running trial process\(es\) stopped, their checkpoints kept/);
    expect(first.out()).toMatch(/Run the same command again to continue/);
    expect(first.out()).not.toMatch(/\n\s+at /);
    expect(existsSync(lock(out)), 'the sweep folder’s lock').toBe(false);
    // Each trial process handled the signal as an interrupted run does: FAILED written, lock released, checkpoint kept.
    await waitFor(() => points.every((p) => !existsSync(lock(p))), 15_000, 'the trial processes to exit');
    const state = (p: string) => join(p, 'checkpoint', 'train-state.json');
    const stepOf = (p: string) => (JSON.parse(readFileSync(state(p), 'utf8')) as { step: number }).step;
    for (const p of points) expect(readFileSync(join(p, 'FAILED'), 'utf8')).toMatch(/interrupted by SIGINT/);
    const stoppedAt = points.map(stepOf);
    const restartedAt = Date.now();

    // The same command takes the folder over at once and continues the interrupted trainings.
    const again = cli(args);
    try {
      await waitFor(() => /sweep: resuming: 0 of 2 trial\(s\) complete already; running the other 2/.test(again.out()), 60_000, 'the sweep to resume');
      // A trial that started over would write step 80 first; a resumed one goes on from where it stopped.
      await waitFor(() => points.every((p) => statSync(state(p)).mtimeMs > restartedAt), 60_000, 'both trials to checkpoint again');
      points.forEach((p, i) => expect(stepOf(p)).toBeGreaterThan(stoppedAt[i]));
      again.child.kill('SIGTERM');
      expect(await again.exited, again.out()).toBe(143);
    } finally {
      again.child.kill('SIGKILL');
    }
    expect(again.out()).not.toMatch(/is in use by diffusionlab process/);
    expect(again.out()).toMatch(/sweep interrupted by SIGTERM/);
    await waitFor(() => points.every((p) => !existsSync(lock(p))), 15_000, 'the resumed trial processes to exit');
  }, 180_000);
});
