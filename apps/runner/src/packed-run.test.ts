// `diffusionlab sample <NAME-run.json>`: a packed run (the playground's checkpoint download, in the
// launchers' pack format) unpacks beside itself and samples exactly as the run folder it was packed
// from; a second call reuses the unpacked folder; a folder in the way, a file that is not a packed
// run, a missing entry or a path escaping the folder is refused with a message naming it, leaving
// nothing behind. A packed run has no summary.json: one plain line says so (no "did not finish"
// warning) and its checkpoint's training record stands in.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packDir } from '@diffusionlab/launchers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadExperiment } from './load.js';
import { PACKED_RUN_FILES, packedRunFolder } from './packed-run.js';
import { runExperiment } from './run.js';
import { sampleRun } from './sample.js';

const SMALL = `
name: small
seed: 7
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20, betaStart: 0.0001, betaEnd: 0.02 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 4, batchSize: 16, learningRate: 0.001, predictionType: epsilon }
sampler: { use: ddpm }
evaluation: { samples: 64, metrics: [w1] }
reporters: [{ use: summary }]
`;

let root: string;
let runDir: string;
let packed: Record<string, string>;
const quiet = { print: () => {} };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'dl-packed-'));
  writeFileSync(join(root, 'small.yaml'), SMALL);
  const loaded = await loadExperiment(join(root, 'small.yaml'));
  const r = await runExperiment(loaded.resolved, { out: join(root, 'run'), ...quiet });
  runDir = r.runDir;
  const all = packDir(runDir);
  packed = Object.fromEntries(PACKED_RUN_FILES.map((f) => [f, all[f]]));
});

describe('sample on a packed run', () => {
  it('unpacks beside the file and draws the same samples as the run folder; a second call reuses the folder', async () => {
    const file = join(root, 'small-run.json');
    writeFileSync(file, JSON.stringify(packed));
    const lines: string[] = [];
    const fromPack = await sampleRun('small-run.json', [], { cwd: root, print: (l) => lines.push(l) });
    expect(packedRunFolder(file)).toBe(join(root, 'small-run'));
    expect(fromPack.sampleDir.startsWith(join(root, 'small-run', 'samples'))).toBe(true);
    expect(lines[0]).toBe(`Unpacked small-run.json into ${join(root, 'small-run')} (4 files)`);
    // No summary.json in a packed run: one plain line says so, no "did not finish" warning, and the training record is the checkpoint's.
    expect(lines.filter((l) => l.includes('summary.json'))).toEqual([
      "small-run.json: a packed run, trained 16 steps; packed runs carry no summary.json, so its training record is the checkpoint's",
    ]);
    expect(lines.filter((l) => l.startsWith('warning:') && !l.startsWith('warning: schedule:'))).toEqual([]);
    const meta = JSON.parse(Buffer.from(packed['checkpoint/diffusionlab.json'], 'base64').toString('utf8'));
    expect(fromPack.summary.training).toEqual(meta.training);
    const fromDir = await sampleRun(runDir, [], quiet);
    expect(readFileSync(join(fromPack.sampleDir, 'samples.npy'))).toEqual(readFileSync(join(fromDir.sampleDir, 'samples.npy')));
    const again: string[] = [];
    await sampleRun(file, ['sampler.use=ddim', 'sampler.steps=5'], { print: (l) => again.push(l) });
    expect(again[0]).toBe(`Using ${join(root, 'small-run')} (unpacked from ${file} before)`);
  });

  it('never overwrites a folder in the way, and refuses what is not a packed run, naming the file and the fix', async () => {
    const file = join(root, 'other-run.json');
    writeFileSync(file, JSON.stringify(packed));
    mkdirSync(join(root, 'other-run'));
    writeFileSync(join(root, 'other-run', 'config.yaml'), 'mine\n');
    await expect(sampleRun(file, [], quiet)).rejects.toThrow(`${join(root, 'other-run')} already exists and does not hold the files of ${file}`);
    expect(readFileSync(join(root, 'other-run', 'config.yaml'), 'utf8')).toBe('mine\n');

    const notJson = join(root, 'notes-run.json');
    writeFileSync(notJson, 'hello');
    await expect(sampleRun(notJson, [], quiet)).rejects.toThrow(`${notJson} is neither a run directory nor a packed run: it is not JSON`);
    const partial = join(root, 'partial-run.json');
    const { 'checkpoint/weights.bin': _w, ...rest } = packed;
    writeFileSync(partial, JSON.stringify(rest));
    await expect(sampleRun(partial, [], quiet)).rejects.toThrow('it lacks checkpoint/weights.bin');
    const escaping = join(root, 'escape-run.json');
    writeFileSync(escaping, JSON.stringify({ ...packed, '../outside.txt': Buffer.from('x').toString('base64') }));
    await expect(sampleRun(escaping, [], quiet)).rejects.toThrow('a packed trial names a file outside its folder: ../outside.txt');
    expect(existsSync(join(root, 'escape-run'))).toBe(false);
    expect(existsSync(join(root, 'outside.txt'))).toBe(false);
    for (const f of [notJson, partial]) expect(existsSync(packedRunFolder(f))).toBe(false);
  });
});
