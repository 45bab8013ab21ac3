/**
 * The bullmq launcher against a real Redis (Debian's redis-server, started here on a free port on
 * 127.0.0.1): worker processes started with `diffusionlab worker`, a sweep command, kills.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAccelerator } from './cli.js';
import { runSweep } from './sweep.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const hooks = join(here, '..', 'test-fixtures', 'ts-hooks.mjs');
const tmp = () => mkdtempSync(join(tmpdir(), 'dl-bullmq-'));
const trialProcess = { script: join(here, 'trial-child.ts'), execArgv: ['--import', hooks] };

const SMALL = (epochs: number) => `
name: small
seed: 7
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20, betaStart: 0.0001, betaEnd: 0.02 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: ${epochs}, batchSize: 16, learningRate: 0.001, predictionType: epsilon, logEvery: 100 }
sampler: { use: ddpm }
evaluation: { samples: 64, metrics: [w1] }
reporters: [{ use: summary }]
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: ChildProcess | undefined;
let url = '';
const workers: ChildProcess[] = [];

/** Starts `diffusionlab worker` from source in its own folder (nothing shared with the sweep's). */
function startWorker(queue: string, log: string[], redisUrl = url): ChildProcess {
  const cwd = tmp();
  const w = spawn(process.execPath, ['--import', hooks, join(here, 'bin.ts'), 'worker', '--redis', redisUrl, '--queue', queue, '--lock-seconds', '2'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (c: Buffer) =>
    log.push(
      ...c
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
  w.stdout?.on('data', collect);
  w.stderr?.on('data', collect);
  workers.push(w);
  return w;
}

async function stopWorkers(): Promise<void> {
  for (const w of workers.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
  await sleep(300);
}

const stripTimes = (rows: Record<string, unknown>[]) => rows.map(({ trainingSeconds: _t, samplingSeconds: _s, ...r }) => r);

/** Starts redis-server on 127.0.0.1:port without persistence, and waits until it answers. */
async function startRedis(port: number): Promise<ChildProcess> {
  let bin: string;
  try {
    bin = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('these tests need redis-server: apt-get install redis-server (.ci/run installs it)');
  }
  const server = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' });
      return server;
    } catch {
      await sleep(100);
    }
  }
  server.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}`);
}

beforeAll(async () => {
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  redis = await startRedis(port);
});

afterAll(async () => {
  await stopWorkers();
  redis?.kill('SIGTERM');
});

describe('sweep --launcher bullmq (real Redis)', () => {
  it('a 2 × 3 sweep on two worker processes gives the rows of the local launcher; enqueuing it again runs nothing', async () => {
    const dir = tmp();
    const cfg = join(dir, 'small.yaml');
    writeFileSync(cfg, SMALL(4));
    const axes = ['seed=1,2', 'sampler.steps=5,10,20'];
    // The local sweep trains as the CLI (and so each worker's trial process) does: with the fused kernels where they apply.
    const local = await runSweep(cfg, axes, { out: join(dir, 'local'), accelerator: await loadAccelerator(), print: () => {} });
    const log: string[] = [];
    const lines: string[] = [];
    const out = join(dir, 'queued');
    // Nothing shared with the workers: they start in folders of their own once the trials are queued,
    // and the config file is gone by then, so each trial's config travels through Redis as data.
    const onLine = (l: string) => {
      lines.push(l);
      if (!l.startsWith('bullmq:')) return;
      rmSync(cfg);
      startWorker('q-grid', log);
      startWorker('q-grid', log);
    };
    const res = await runSweep(cfg, axes, { out, launcher: 'bullmq', launcherOptions: { redis: url, queue: 'q-grid', pollSeconds: 0.2 }, worker: trialProcess, print: onLine });
    expect(existsSync(cfg)).toBe(false);
    writeFileSync(cfg, SMALL(4));
    expect(res.failed).toBe(0);
    expect(stripTimes(res.rows)).toEqual(stripTimes(local.rows));
    // Two models trained, four points sampled from them: six trials, each started once, over both workers.
    expect(res.trainings).toBe(2);
    const started = log.filter((l) => / started \(attempt/.test(l));
    expect(started).toHaveLength(6);
    expect(new Set(started.map((l) => /on worker (\d+)/.exec(l)?.[1])).size).toBe(2);
    // Results travelled through Redis into the sweep folder: the trained point holds its checkpoint.
    expect(existsSync(join(out, 'seed-1_sampler.steps-5', 'checkpoint', 'model.json'))).toBe(true);
    // A point sampled on a worker from the model in Redis names its model's folder here as its source.
    expect(JSON.parse(readFileSync(join(out, 'seed-1_sampler.steps-10', 'summary.json'), 'utf8')).source).toBe(join(out, 'seed-1_sampler.steps-5'));
    expect(lines.some((l) => /^sweep: \d+\/6 done, \d+ running, 0 failed/.test(l))).toBe(true);
    for (const f of ['sweep.csv', 'sweep.json', 'sweep.png', 'report.html']) expect(existsSync(join(out, f)), f).toBe(true);

    // The same trials enqueued by a second sweep command (another --out) are the same jobs: nothing runs again.
    const again = await runSweep(cfg, axes, { out: join(dir, 'again'), launcher: 'bullmq', launcherOptions: { redis: url, queue: 'q-grid', pollSeconds: 0.2 }, print: () => {} });
    expect(stripTimes(again.rows)).toEqual(stripTimes(res.rows));
    expect(log.filter((l) => / started \(attempt/.test(l))).toHaveLength(6);
    // Re-running the finished sweep in its folder skips every trial.
    const resumed = await runSweep(cfg, axes, { out, launcher: 'bullmq', launcherOptions: { redis: url, queue: 'q-grid' }, print: () => {} });
    expect(resumed.ran).toBe(0);
    await stopWorkers();
  });

  it('a worker killed with SIGKILL after a checkpoint: another worker resumes its trial from the checkpoint in Redis, with the uninterrupted result', async () => {
    const dir = tmp();
    const cfg = join(dir, 'small.yaml');
    // 8000 steps on the tfjs path (accelerate: false; the fused kernels would finish them in about a second on an idle machine,
    // racing the worker's 250 ms checkpoint poll), a checkpoint every 50 epochs (200 steps): the kill lands after the first one is stored.
    writeFileSync(cfg, SMALL(2000).replace('logEvery: 100', 'logEvery: 100, checkpointEvery: 50, accelerate: false'));
    const axes = ['seed=1,2'];
    const logA: string[] = [];
    const logB: string[] = [];
    const a = startWorker('q-kill', logA);
    const out = join(dir, 's');
    const sweep = runSweep(cfg, axes, { out, launcher: 'bullmq', launcherOptions: { redis: url, queue: 'q-kill', pollSeconds: 0.2 }, print: () => {} });
    // Worker A takes the first trial; kill it once a checkpoint of that training is in Redis.
    const stored = () => logA.find((l) => / checkpoint at step \d+ stored in the queue/.test(l));
    for (let i = 0; i < 600 && !stored(); i++) await sleep(50);
    const killed = /^\[([^\]]+)\]/.exec(stored() ?? '')?.[1];
    expect(killed, logA.join('\n')).toBeDefined();
    a.kill('SIGKILL');
    startWorker('q-kill', logB);
    const res = await sweep;
    expect(res.failed).toBe(0);
    expect(res.rows.map((r) => r.status)).toEqual(['complete', 'complete']);
    // Worker B ran the killed trial again (after A's lock expired), from the checkpoint A stored, and the other one from the start.
    expect(logB.filter((l) => / started \(attempt/.test(l)).map((l) => /^\[([^\]]+)\]/.exec(l)?.[1])).toContain(killed);
    expect(logB.some((l) => l.startsWith(`[${killed}] an earlier attempt left a checkpoint`))).toBe(true);
    const training = (name: string) => JSON.parse(readFileSync(join(out, name, 'summary.json'), 'utf8')).training as { resumedFromStep?: number };
    expect(training(killed as string).resumedFromStep).toBeGreaterThan(0);
    expect(training(killed as string).resumedFromStep).toBeLessThan(8000);
    // Exact resume: the metrics equal an uninterrupted run's (the local launcher, each trial once from step 0).
    const local = await runSweep(cfg, axes, { out: join(dir, 'local'), accelerator: await loadAccelerator(), print: () => {} });
    expect(stripTimes(res.rows)).toEqual(stripTimes(local.rows));
    await stopWorkers();
  });

  it('Redis restarted mid-sweep (its queue lost): the sweep says so once each way, re-enqueues the lost trials and completes', async () => {
    const dir = tmp();
    const cfg = join(dir, 'small.yaml');
    writeFileSync(cfg, SMALL(4));
    const port = await freePort();
    const own = `redis://127.0.0.1:${port}`;
    let server = await startRedis(port);
    const lines: string[] = [];
    const log: string[] = [];
    const stderr: string[] = [];
    const consoleError = console.error;
    console.error = (...a: unknown[]) => stderr.push(a.map(String).join(' '));
    let restarted: Promise<void> | undefined;
    try {
      const onLine = (l: string) => {
        lines.push(l);
        if (restarted || !/^bullmq: \d+ trial\(s\) on queue/.test(l)) return;
        // Both trials are queued: Redis goes away for a second and comes back empty; only then does a worker start.
        server.kill('SIGKILL');
        restarted = (async () => {
          await sleep(1000);
          server = await startRedis(port);
          startWorker('q-outage', log, own);
          startWorker('q-outage', log, own);
        })();
      };
      const res = await runSweep(cfg, ['seed=1,2'], {
        out: join(dir, 's'),
        launcher: 'bullmq',
        launcherOptions: { redis: own, queue: 'q-outage', pollSeconds: 0.2 },
        print: onLine,
      });
      await restarted;
      expect(res.failed).toBe(0);
      expect(res.rows.map((r) => r.status)).toEqual(['complete', 'complete']);
    } finally {
      console.error = consoleError;
      await stopWorkers();
      server.kill('SIGTERM');
    }
    expect(lines.filter((l) => l.startsWith(`bullmq: lost Redis at ${own}`))).toHaveLength(1);
    expect(lines.filter((l) => l === `bullmq: Redis at ${own} is back`)).toHaveLength(1);
    // No reconnection error reached the console with its stack (BullMQ prints each one when nothing listens).
    expect(stderr.filter((l) => /ECONNREFUSED|\n\s+at /.test(l))).toEqual([]);
  });

  it('a trial that always fails is recorded failed after its attempts; the rest complete', async () => {
    const dir = tmp();
    const cfg = join(dir, 'small.yaml');
    writeFileSync(cfg, SMALL(4));
    const log: string[] = [];
    startWorker('q-fail', log);
    const out = join(dir, 's');
    const res = await runSweep(cfg, ['training.learningRate=0.001,1000000'], {
      out,
      launcher: 'bullmq',
      launcherOptions: { redis: url, queue: 'q-fail', attempts: 2, pollSeconds: 0.2 },
      print: () => {},
    });
    expect(res.failed).toBe(1);
    const bad = res.rows.find((r) => r['training.learningRate'] === 1000000) as Record<string, unknown>;
    expect(bad.status).toBe('failed');
    expect(bad.attempts).toBe(2);
    expect(String(bad.error)).toMatch(/loss|NaN|finite|diverg/i);
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8')).toMatch(/failed/);
    expect(log.filter((l) => /training\.learningRate-1000000\] started/.test(l))).toHaveLength(2);
    await stopWorkers();
  });
});
