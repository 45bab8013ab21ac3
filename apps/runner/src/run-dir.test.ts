import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@diffusionlab/core';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { writeFileAtomic } from './files.js';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { closeOutputDir, firstForeignEntry, LOCK_FILE, MANIFEST_FILE, META_DIR, openOutputDir, readManifest, recordOutput } from './run-dir.js';
import { runSweep } from './sweep.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dl-rundir-'));
const lines: string[] = [];
const print = (l: string) => lines.push(l);
const runLike = { force: false, holds: (e: readonly string[]) => e.includes('config.yaml'), what: 'a run', print };
const opened: string[] = [];
const open = (dir: string, o: Partial<typeof runLike> & { resume?: boolean } = {}) => {
  const d = openOutputDir(dir, { ...runLike, ...o });
  opened.push(d);
  return d;
};

afterEach(() => {
  for (const d of opened.splice(0)) closeOutputDir(d);
  lines.length = 0;
});

/** Every file under `dir` with its content, to prove that a refusal deleted nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else out[r] = e.isSymbolicLink() ? 'link' : readFileSync(join(d, e.name), 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

/** A finished-looking output directory written through the runner's writers (so its manifest lists them). */
function fakeRun(dir: string): string {
  const d = open(dir);
  writeFileAtomic(join(d, 'config.yaml'), 'name: x\n');
  writeFileAtomic(join(d, 'summary.json'), '{}\n');
  recordOutput(join(d, 'checkpoint'));
  mkdirSync(join(d, 'checkpoint'));
  writeFileSync(join(d, 'checkpoint', 'model.json'), '{}');
  closeOutputDir(d);
  return d;
}

/** The PID of a process that has exited (a stale lock's holder). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('the manifest and --force', () => {
  it('lists every top-level entry the runner writes, and --force removes exactly those', () => {
    const dir = fakeRun(join(tmp(), 'run'));
    expect([...(readManifest(dir) ?? [])].sort()).toEqual(['checkpoint', 'config.yaml', 'summary.json']);
    open(dir, { force: true });
    expect(readdirSync(dir)).toEqual([META_DIR]);
  });

  it('refuses a folder holding anything diffusionlab did not write, naming it, and deletes nothing', () => {
    const dir = fakeRun(join(tmp(), 'run'));
    writeFileSync(join(dir, 'notes.md'), 'mine');
    const before = snapshot(dir);
    expect(() => open(dir, { force: true })).toThrow(/holds "notes\.md", which diffusionlab did not write/);
    expect(snapshot(dir)).toEqual(before);
    // The refusal released the lock: the folder can be opened again once the file is gone.
    expect(existsSync(join(dir, META_DIR, LOCK_FILE))).toBe(false);
  });

  it('never follows a symlink: a listed link is removed, its target kept; an unlisted link is foreign', () => {
    const root = tmp();
    const outside = join(root, 'precious');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep.txt'), 'keep');
    const d = open(join(root, 'run'));
    writeFileAtomic(join(d, 'config.yaml'), 'name: x\n');
    recordOutput(join(d, 'checkpoint'));
    symlinkSync(outside, join(d, 'checkpoint'));
    closeOutputDir(d);
    open(d, { force: true });
    expect(readdirSync(d)).toEqual([META_DIR]);
    expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('keep');
    writeFileAtomic(join(d, 'config.yaml'), 'name: x\n');
    closeOutputDir(d);

    symlinkSync(outside, join(d, 'data'));
    expect(() => open(d, { force: true })).toThrow(/holds "data", which diffusionlab did not write/);
    expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('keep');
  });

  it('without a manifest (a folder from before manifests) recognises only the runner’s own file names', () => {
    const dir = join(tmp(), 'old');
    mkdirSync(join(dir, 'checkpoint'), { recursive: true });
    for (const f of ['config.yaml', 'env.json', 'summary.json', 'samples.npy', 'config.yaml.tmp-123', 'checkpoint/model.json']) writeFileSync(join(dir, f), 'x');
    expect(firstForeignEntry(dir)).toBeNull();
    writeFileSync(join(dir, 'loss.png'), 'x');
    expect(() => open(dir, { force: true })).toThrow(/holds "loss\.png".*has no \.diffusionlab\/manifest\.json/);
    expect(existsSync(join(dir, 'config.yaml'))).toBe(true);
    // The refused call leaves no .diffusionlab/ behind in a folder it did not own.
    expect(existsSync(join(dir, META_DIR))).toBe(false);
  });

  it('a run’s samples/ folder counts as its own when it holds only sample directories with manifests', () => {
    const dir = fakeRun(join(tmp(), 'run'));
    fakeRun(join(dir, 'samples', 'ddim-10'));
    expect(firstForeignEntry(dir)).toBeNull();
    writeFileSync(join(dir, 'samples', 'ddim-10', 'mine.txt'), 'x');
    expect(firstForeignEntry(dir)).toBe(join('samples', 'ddim-10', 'mine.txt'));
    writeFileSync(join(dir, 'samples', 'notes.txt'), 'x');
    expect(firstForeignEntry(dir)).toBe(join('samples', 'ddim-10', 'mine.txt'));
  });
});

describe('the lock', () => {
  it('refuses a second opener while the directory is open, naming the PID; released on close', () => {
    const dir = open(join(tmp(), 'run'));
    const lock = JSON.parse(readFileSync(join(dir, META_DIR, LOCK_FILE), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() });
    let err: unknown;
    try {
      openOutputDir(dir, { ...runLike, resume: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(new RegExp(`is in use by diffusionlab process ${process.pid} on `));
    closeOutputDir(dir);
    expect(existsSync(join(dir, META_DIR, LOCK_FILE))).toBe(false);
    open(dir);
  });

  it('takes over a stale lock whose process is gone, saying so', () => {
    const dir = join(tmp(), 'run');
    mkdirSync(join(dir, META_DIR), { recursive: true });
    const pid = deadPid();
    writeFileSync(join(dir, META_DIR, LOCK_FILE), JSON.stringify({ pid, host: hostname() }));
    open(dir);
    expect(lines.join('\n')).toMatch(new RegExp(`Taking over the lock of .*: diffusionlab process ${pid} on .* is gone`));
    expect(JSON.parse(readFileSync(join(dir, META_DIR, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
  });

  it('refuses a lock held on another host (its process cannot be checked)', () => {
    const dir = join(tmp(), 'run');
    mkdirSync(join(dir, META_DIR), { recursive: true });
    writeFileSync(join(dir, META_DIR, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: 'elsewhere' }));
    expect(() => open(dir)).toThrow(/in use by diffusionlab process \d+ on elsewhere/);
  });
});

const SMALL = `
name: small
seed: 7
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20, betaStart: 0.0001, betaEnd: 0.02 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 2, batchSize: 16, learningRate: 0.001, predictionType: epsilon, logEvery: 1 }
sampler: { use: ddpm }
evaluation: { samples: 32, metrics: [w1] }
reporters: [{ use: histogram }, { use: summary }]
`;

describe('run --force end to end', () => {
  it('keeps a project folder’s .git, notes and own config (the reported data loss)', async () => {
    const proj = tmp();
    mkdirSync(join(proj, '.git'));
    writeFileSync(join(proj, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(proj, 'notes.md'), 'my notes');
    writeFileSync(join(proj, 'config.yaml'), SMALL);
    const before = snapshot(proj);
    await expect(main(['run', join(proj, 'config.yaml'), 'training.epochs=1', '--out', proj, '--force'])).rejects.toThrow(
      /holds "\.git", which diffusionlab did not write, so --force will not delete/,
    );
    expect(snapshot(proj)).toEqual(before);
  });

  it('a real run lists every file it wrote (reporters included), --force replaces it, and the lock is released', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'small.yaml'), SMALL);
    const loaded = await loadExperiment(join(dir, 'small.yaml'));
    const r = withSummaryReporter(loaded.resolved, loaded.registry);
    const out = join(dir, 'run');
    await runExperiment(r, { out, print });
    const written = readdirSync(out)
      .filter((e) => e !== META_DIR)
      .sort();
    expect(written).toEqual(['checkpoint', 'config.yaml', 'env.json', 'histogram.png', 'loss-history.jsonl', 'metrics.jsonl', 'reference.npy', 'samples.npy', 'summary.json']);
    expect([...(readManifest(out) ?? [])].sort()).toEqual(written);
    expect(readdirSync(join(out, META_DIR))).toEqual([MANIFEST_FILE]);
    await runExperiment(r, { out, force: true, print });
    expect(
      readdirSync(out)
        .filter((e) => e !== META_DIR)
        .sort(),
    ).toEqual(written);

    // A run that fails after its directory exists releases the lock too (and leaves FAILED).
    const failing = { ...r, denoiser: { ...r.denoiser, def: { ...r.denoiser.def, create: () => ({ trainable: true, build: () => Promise.reject(new Error('boom')) }) } } };
    await expect(runExperiment(failing as typeof r, { out, force: true, print })).rejects.toThrow(/boom/);
    expect(existsSync(join(out, 'FAILED'))).toBe(true);
    expect(readdirSync(join(out, META_DIR))).toEqual([MANIFEST_FILE]);
  });

  it('refuses a reporter file outside the run directory at validation, before the directory exists', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'small.yaml'), SMALL);
    const out = join(dir, 'a', 'b', 'run');
    for (const bad of ['../../../x.json', '/tmp/x.json']) {
      await expect(main(['run', join(dir, 'small.yaml'), `reporters=[{use: summary, file: "${bad}"}]`, '--out', out])).rejects.toThrow(
        /reporters\[0\]\.file: .*(climbs out|absolute path)/,
      );
      await expect(main(['validate', join(dir, 'small.yaml'), `reporters=[{use: summary, file: "${bad}"}]`])).rejects.toThrow(/reporters\[0\]\.file/);
    }
    expect(existsSync(join(dir, 'a'))).toBe(false);
  });

  it('sweep --force refuses a sweep folder holding a foreign file, before any training', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'small.yaml'), SMALL);
    const out = join(dir, 'sweep');
    mkdirSync(out);
    writeFileSync(join(out, 'sweep.json'), '{}');
    writeFileSync(join(out, 'notes.md'), 'mine');
    const before = snapshot(out);
    await expect(runSweep(join(dir, 'small.yaml'), ['seed=1,2'], { out, force: true, print })).rejects.toThrow(/holds "notes\.md"/);
    expect(snapshot(out)).toEqual(before);
    expect(lines.some((l) => l.includes('training'))).toBe(false);
  });
});
