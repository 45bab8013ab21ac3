import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatError, main } from './cli.js';
import { diagnoseMissing, FileSystemError, fileError } from './io-errors.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const mounts: string[] = [];

/** Mounts a small tmpfs (a real file system that fills up, or is read-only); null when this machine does not allow it. */
function mountTmpfs(options: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'dl-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  mounts.push(dir);
  return dir;
}

afterAll(() => {
  for (const m of mounts) spawnSync('umount', [m]);
});

const probe = mountTmpfs('size=64k');
const canMount = probe !== null;
if (!canMount) console.log('skipping the full-disk and read-only tests: mounting a tmpfs is not permitted here (needs root and CAP_SYS_ADMIN)');

const config = (samples: number) => `
name: full-disk
seed: 4
backend: wasm
dataset: { use: gaussian-mixture, size: 128, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20, betaStart: 0.0001, betaEnd: 0.1 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 30, batchSize: 16, learningRate: 0.002, checkpointEvery: 10, logEvery: 10 }
sampler: { use: ddpm }
evaluation: { samples: ${samples}, metrics: [w1] }
reporters: [{ use: summary }]
`;

const litter = (dir: string) =>
  [...readdirSync(dir), ...(existsSync(join(dir, 'checkpoint')) ? readdirSync(join(dir, 'checkpoint')) : [])].filter((n) => /\.(tmp|old)-\d+$|\.\d+\.tmp$/.test(n));

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

describe('file-system failures', () => {
  it.skipIf(!canMount)(
    'a full disk while writing samples: one message naming the file, FAILED with the resume command, no temp file; --resume then only samples',
    async () => {
      const disk = mountTmpfs('size=128k') as string;
      const dir = mkdtempSync(join(tmpdir(), 'dl-full-'));
      const cfg = join(dir, 'run.yaml');
      // 50,000 float32 samples are 200 kB: training and checkpoints fit on the 128 kB disk, samples.npy does not.
      writeFileSync(cfg, config(50_000));
      const out = join(disk, 'run');
      const child = spawn(process.execPath, ['--import', join(here, '..', 'test-fixtures', 'ts-hooks.mjs'), join(here, 'bin.ts'), 'run', cfg, '--out', out], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (d) => {
        stderr += String(d);
      });
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(2);
      expect(stderr).toBe(
        `error: cannot write ${join(out, 'samples.npy')}: no space left on the device (ENOSPC)\n` +
          'hint: Free space on that disk (or choose another --out); a run with a checkpoint continues with --resume.\n',
      );
      expect(litter(out)).toEqual([]);
      const failed = readFileSync(join(out, 'FAILED'), 'utf8').split('\n');
      expect(failed[1]).toBe(`cannot write ${join(out, 'samples.npy')}: no space left on the device (ENOSPC)`);
      expect(failed[3]).toBe('training finished: the final checkpoint (step 240 of 240) is in checkpoint/');
      expect(failed[4]).toBe(`resume with: diffusionlab run ${cfg} --out ${out} --resume  (loads the final weights; samples and evaluates again without training)`);

      // With room again, --resume loads the final weights and samples: the same result as a run that was never interrupted.
      expect(spawnSync('mount', ['-o', 'remount,size=16m', disk]).status).toBe(0);
      expect(await quietMain(['run', cfg, '--out', out, '--resume'])).toBe(0);
      expect(await quietMain(['run', cfg, '--out', join(dir, 'whole')])).toBe(0);
      const resumed = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      const whole = JSON.parse(readFileSync(join(dir, 'whole', 'summary.json'), 'utf8'));
      expect(resumed.training).toEqual({ ...whole.training, seconds: resumed.training.seconds, stepsPerSecond: resumed.training.stepsPerSecond, resumedFromStep: 240 });
      expect(resumed.metrics).toEqual(whole.metrics);
      expect(readFileSync(join(out, 'loss-history.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'whole', 'loss-history.jsonl'), 'utf8'));
      expect(existsSync(join(out, 'FAILED'))).toBe(false);
    },
    120_000,
  );

  it.skipIf(!canMount)('a read-only --out: one message saying so (not ENOENT), the stack only with --debug', async () => {
    const ro = mountTmpfs('size=64k,ro') as string;
    const dir = mkdtempSync(join(tmpdir(), 'dl-ro-'));
    const cfg = join(dir, 'run.yaml');
    writeFileSync(cfg, config(100));
    const e = await quietMain(['run', cfg, '--out', join(ro, 'runs', 'a')]);
    expect(e).toBeInstanceOf(Error);
    const text = formatError(e);
    expect(text).toMatch(new RegExp(`^error: cannot \\w+ ${ro}/runs\\S*: the file system is read-only \\(EROFS\\)\\nhint: Choose a writable folder with --out\\.$`));
    expect(formatError(e, true)).toMatch(/\n\s+at /);
  });

  it('names the file and the real reason for errors Node reports without them', () => {
    // writeFileSync on a full disk throws ENOSPC with no path; the runner's writers wrap it.
    const raw = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    const e = fileError(raw, '/runs/a/samples.npy') as FileSystemError;
    expect(e).toBeInstanceOf(FileSystemError);
    expect(e.message).toBe('cannot write /runs/a/samples.npy: no space left on the device (ENOSPC)');
    expect(e.cause).toBe(raw);
    // mkdir under a file: ENOENT from recursive mkdir is diagnosed as ENOTDIR.
    const dir = mkdtempSync(join(tmpdir(), 'dl-enotdir-'));
    writeFileSync(join(dir, 'file'), '');
    expect(diagnoseMissing(join(dir, 'file', 'a', 'b'))).toBe('ENOTDIR');
    mkdirSync(join(dir, 'ok'));
    expect(diagnoseMissing(join(dir, 'ok', 'a', 'b'))).toBe('ENOENT');
    rmSync(dir, { recursive: true });
    // Not an OS error: unchanged.
    const bug = new TypeError('x is undefined');
    expect(fileError(bug, '/a')).toBe(bug);
  });
});
