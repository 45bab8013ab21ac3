import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { main, parseArgs } from './cli.js';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { closeOutputDir, openOutputDir } from './run-dir.js';
import { sampleRun } from './sample.js';

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
reporters: [{ use: summary }]
`;

/** A plugin module that leaves a marker file when its code runs. */
const plugin = (marker: string) => `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport const plugins = [];\n`;

/** Hash and mtime of every file in a run directory except samples/ (where `sample` may write by default). */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const rel = relative(dir, p);
      if (rel === 'samples') continue;
      if (statSync(p).isDirectory()) walk(p);
      else out[rel] = `${createHash('sha256').update(readFileSync(p)).digest('hex')}:${statSync(p).mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

const quiet = { print: () => {} };
let dir: string;
let cleanRun: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dl-trust-'));
  writeFileSync(join(dir, 'small.yaml'), SMALL);
  const loaded = await loadExperiment(join(dir, 'small.yaml'));
  cleanRun = (await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out: join(dir, 'run'), ...quiet })).runDir;
});

/** A copy of the finished run whose config.yaml was edited by `edit` (as a shared, untrusted folder could be). */
function sharedRun(name: string, edit: (cfg: Record<string, unknown>) => void): string {
  const copy = join(dir, name);
  cpSync(cleanRun, copy, { recursive: true });
  const cfg = YAML.parse(readFileSync(join(copy, 'config.yaml'), 'utf8'));
  edit(cfg);
  writeFileSync(join(copy, 'config.yaml'), YAML.stringify(cfg));
  return copy;
}

describe('sample runs no code from the run directory unless trusted', () => {
  it('refuses a run whose config names plugins, explaining --trust and --plugin; loads them only with --trust', async () => {
    const marker = join(dir, 'evil-ran');
    const run = sharedRun('with-plugins', (cfg) => {
      cfg.plugins = ['./evil.mjs'];
    });
    writeFileSync(join(run, 'evil.mjs'), plugin(marker));
    for (const attempt of [() => sampleRun(run, [], quiet), () => main(['sample', run]), () => sampleRun(run, ['sampler.steps=5'], { ...quiet, out: join(dir, 'x') })]) {
      await expect(attempt()).rejects.toThrow(/plugins: the config of .* names plugin code \(\.\/evil\.mjs\); `sample` reads only data/);
    }
    const err = await sampleRun(run, [], quiet).catch((e) => e);
    expect(err.hint).toMatch(/--trust.*--plugin/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(run, 'samples'))).toBe(false);

    // The user's own plugin on the command line is loaded instead of the run's.
    const mine = join(dir, 'mine-ran');
    writeFileSync(join(dir, 'mine.mjs'), plugin(mine));
    const own = await sampleRun(run, [], { ...quiet, plugins: ['./mine.mjs'], cwd: dir, out: join(dir, 'own') });
    expect(existsSync(mine)).toBe(true);
    expect(existsSync(marker)).toBe(false);
    expect(YAML.parse(readFileSync(join(own.sampleDir, 'config.yaml'), 'utf8')).plugins).toEqual([join(dir, 'mine.mjs')]);

    // On the command line, --plugin may repeat.
    expect(parseArgs(['sample', run, '--plugin', './a.mjs', '--plugin=b', '--trust']).flags).toEqual({ plugin: ['./a.mjs', 'b'], trust: true });

    // --trust loads what the run names.
    await sampleRun(run, [], { ...quiet, trust: true, out: join(dir, 'trusted') });
    expect(existsSync(marker)).toBe(true);
  });

  it('never follows extends: from a run’s config.yaml (a TypeScript base would execute)', async () => {
    const marker = join(dir, 'ts-ran');
    const run = sharedRun('with-extends', (cfg) => {
      cfg.extends = './base.config.ts';
    });
    writeFileSync(join(run, 'base.config.ts'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default {};\n`);
    await expect(sampleRun(run, [], quiet)).rejects.toThrow(/extends: .*config\.yaml names a base config to extend; .*`sample` never loads other configs from a run directory/);
    await expect(main(['sample', run, '--trust'])).rejects.toThrow(/extends:/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('sample never writes into the source run', () => {
  it('refuses a reporter file that escapes the sample directory, leaving the run as it was', async () => {
    const before = fingerprint(cleanRun);
    for (const bad of ['../../summary.json', '../../../run/summary.json', join(cleanRun, 'summary.json')]) {
      await expect(sampleRun(cleanRun, [`reporters=[{use: summary, file: "${bad}"}]`], quiet)).rejects.toThrow(/reporters\[0\]\.file: /);
      await expect(sampleRun(cleanRun, [`reporters=[{use: summary, file: "${bad}"}]`], { ...quiet, out: join(dir, 'elsewhere') })).rejects.toThrow(/reporters\[0\]\.file: /);
    }
    // A nested name inside the sample directory is fine, and lands there.
    const ok = await sampleRun(cleanRun, ['reporters=[{use: summary, file: "nested/s.json"}]'], quiet);
    expect(existsSync(join(ok.sampleDir, 'nested', 's.json'))).toBe(true);
    expect(relative(join(cleanRun, 'samples'), ok.sampleDir)).not.toMatch(/^\.\./);
    expect(fingerprint(cleanRun)).toEqual(before);
  });

  it('refuses --out on a directory another process (here: this one) has open, naming the PID', async () => {
    const live = join(dir, 'live');
    mkdirSync(live);
    openOutputDir(live, { force: false, holds: () => false, what: 'a run', print: () => {} });
    try {
      await expect(sampleRun(cleanRun, [], { ...quiet, out: live, force: true })).rejects.toThrow(new RegExp(`is in use by diffusionlab process ${process.pid} on `));
    } finally {
      closeOutputDir(live);
    }
  });
});
