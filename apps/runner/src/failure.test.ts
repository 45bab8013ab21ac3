import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatError, main } from './cli.js';
import { waitFor } from './process.test-util.js';

const here = fileURLToPath(new URL('.', import.meta.url));

// 8 steps an epoch, every epoch logged, a resumable checkpoint every 5 epochs, on the cpu backend's
// tfjs path (accelerate: false): the fused kernels finish 3,200 steps in under a second on an idle
// machine, before a signal sent after the third epoch could land.
const config = (over: { epochs?: number; checkpointEvery?: number; reporters?: string } = {}) => `
name: interrupted
seed: 5
backend: cpu
dataset: { use: gaussian-mixture, size: 128, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 50, betaStart: 0.0001, betaEnd: 0.05 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: ${over.epochs ?? 400}, accelerate: false, batchSize: 16, learningRate: 0.002, emaDecay: 0.99, checkpointEvery: ${over.checkpointEvery ?? 5}, logEvery: 1 }
sampler: { use: ddpm }
evaluation: { samples: 200, metrics: [w1] }
reporters: ${over.reporters ?? '[{ use: summary }]'}
`;

/** `diffusionlab run` as a real child process (the TypeScript sources, through the test hooks). */
function startRun(args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', join(here, '..', 'test-fixtures', 'ts-hooks.mjs'), join(here, 'bin.ts'), 'run', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, exited, stderr: () => err };
}

const lines = (path: string) =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
const epochs = (path: string) => lines(path).map((l) => JSON.parse(l).epoch as number);
/** Temp entries (`x.tmp-PID`, `x.old-PID`, `x.PID.tmp`) anywhere in a run directory's top two levels. */
const litter = (dir: string) =>
  [...readdirSync(dir), ...(existsSync(join(dir, 'checkpoint')) ? readdirSync(join(dir, 'checkpoint')) : [])].filter((n) => /\.(tmp|old)-\d+$|\.\d+\.tmp$/.test(n));

/** Runs the CLI in this process with stdout silenced; returns the exit code or the error. */
async function quietMain(argv: string[]): Promise<number | Error> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await main(argv);
  } catch (e) {
    return e as Error;
  } finally {
    process.stdout.write = write;
  }
}

/** A PID that belonged to a process which has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;

describe('an interrupted run', () => {
  it('SIGINT: FAILED names the last checkpoint and the resume command, exit 130, no temp folders; --resume ends with each epoch logged once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-sigint-'));
    const cfg = join(dir, 'run.yaml');
    writeFileSync(cfg, config());
    const out = join(dir, 'run');
    const run = startRun([cfg, 'seed=6', '--out', out]);
    await waitFor(() => existsSync(join(out, 'checkpoint', 'train-state.json')) && lines(join(out, 'metrics.jsonl')).length >= 12, 120_000, `progress (${run.stderr()})`);
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 130, signal: null });
    expect(run.stderr()).toMatch(new RegExp(`interrupted by SIGINT: FAILED written in ${out}; resume with: diffusionlab run ${cfg} seed=6 --out ${out} --resume\\n$`));
    const failed = readFileSync(join(out, 'FAILED'), 'utf8').split('\n');
    expect(failed[1]).toBe('interrupted by SIGINT');
    const state = JSON.parse(readFileSync(join(out, 'checkpoint', 'train-state.json'), 'utf8'));
    expect(failed[2]).toBe(`last checkpoint: step ${state.step} of 3200 (epoch ${state.epoch}), in checkpoint/`);
    expect(failed[3]).toBe(`resume with: diffusionlab run ${cfg} seed=6 --out ${out} --resume`);
    expect(litter(out)).toEqual([]);
    expect(epochs(join(out, 'metrics.jsonl')).length).toBeGreaterThan(state.epoch);

    // A copy, for the refusals below, before the resume changes it.
    const copy = join(dir, 'copy');
    cpSync(out, copy, { recursive: true });

    // Litter of a process that died mid-write is removed at the next start.
    const pid = deadPid();
    mkdirSync(join(out, `checkpoint.tmp-${pid}`));
    writeFileSync(join(out, `config.yaml.tmp-${pid}`), 'half');
    writeFileSync(join(out, `summary.json.${pid}.tmp`), 'half');
    expect(await quietMain(['run', cfg, 'seed=6', '--out', out, '--resume'])).toBe(0);
    expect(litter(out)).toEqual([]);
    expect(existsSync(join(out, 'FAILED'))).toBe(false);
    const all = Array.from({ length: 400 }, (_, i) => i + 1);
    expect(epochs(join(out, 'metrics.jsonl'))).toEqual(all);
    expect(epochs(join(out, 'loss-history.jsonl'))).toEqual(all);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.training.steps).toBe(3200);
    expect(summary.training.resumedFromStep).toBe(state.step);

    // A training state that claims more steps than the run has is refused, and the directory stays as it was.
    const edit = (f: (s: Record<string, unknown>) => void) => {
      const p = join(copy, 'checkpoint', 'train-state.json');
      const s = JSON.parse(readFileSync(p, 'utf8'));
      f(s);
      writeFileSync(p, JSON.stringify(s));
    };
    const before = readFileSync(join(copy, 'FAILED'), 'utf8');
    edit((s) => {
      s.step = 999999;
    });
    const far = await quietMain(['run', cfg, 'seed=6', '--out', copy, '--resume']);
    expect(String(far)).toMatch(/train-state\.json is at step 999999, epoch \d+, but this config trains 3200 steps in 400 epochs of 8 steps/);
    expect(readFileSync(join(copy, 'FAILED'), 'utf8')).toBe(before);
    expect(existsSync(join(copy, 'summary.json'))).toBe(false);
    // Tensors of the wrong shape for the model (same size, so the file itself is consistent).
    edit((s) => {
      s.step = state.step;
      const t = (s.tensors as { shape: number[] }[])[0];
      t.shape = [...t.shape].reverse();
    });
    expect(String(await quietMain(['run', cfg, 'seed=6', '--out', copy, '--resume']))).toMatch(/train-state\.json does not fit this model: weights have shapes \[16,2\]/);
    writeFileSync(join(copy, 'checkpoint', 'train-state.json'), '{"step": 4');
    expect(String(await quietMain(['run', cfg, 'seed=6', '--out', copy, '--resume']))).toMatch(/train-state\.json is not a valid training state: not JSON/);
    expect(readFileSync(join(copy, 'FAILED'), 'utf8')).toBe(before);
  }, 240_000);

  it('SIGTERM before the first checkpoint: exit 143, FAILED says there is none and how to start again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-sigterm-'));
    const cfg = join(dir, 'run.yaml');
    writeFileSync(cfg, config({ checkpointEvery: 100000 }));
    const out = join(dir, 'run');
    const run = startRun([cfg, '--out', out]);
    await waitFor(() => lines(join(out, 'metrics.jsonl')).length >= 3, 120_000, `progress (${run.stderr()})`);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 143, signal: null });
    const failed = readFileSync(join(out, 'FAILED'), 'utf8').split('\n');
    expect(failed.slice(1)).toEqual([
      'interrupted by SIGTERM',
      'no resumable checkpoint: none was written yet (training.checkpointEvery = 100000)',
      `start again with: diffusionlab run ${cfg} --out ${out} --force`,
      '',
    ]);
    expect(litter(out)).toEqual([]);
  }, 120_000);

  it('a reporter that fails after summary.json was written is listed in it, and the run exits non-zero', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-reporter-'));
    const cfg = join(dir, 'run.yaml');
    writeFileSync(cfg, config({ epochs: 60, reporters: '[{ use: summary }, { use: html }]' }));
    const out = join(dir, 'run');
    // In this process: training yields to the event loop between epochs, so the test can act while it runs.
    const run = quietMain(['run', cfg, '--out', out]);
    // report.html cannot be written once a folder of that name is in its place.
    await waitFor(() => existsSync(join(out, 'metrics.jsonl')), 120_000, 'progress');
    mkdirSync(join(out, 'report.html', 'x'), { recursive: true });
    const e = await run;
    expect(e).toBeInstanceOf(Error);
    const text = formatError(e);
    expect(text).toMatch(/^error: 1 reporter failed: reporter "html" failed in onRunEnd: reporter 'html' could not write .*report\.html/);
    expect(text).not.toMatch(/\n\s+at /);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.reporterErrors).toEqual([expect.stringMatching(/^reporter "html" failed in onRunEnd: .*report\.html/)]);
    expect(litter(out)).toEqual([]);
  }, 120_000);
});
