import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { loadExperiment } from './load.js';
import { isTsConfigFile, loadTsConfig } from './ts-config.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dl-tsconfig-'));

/** A typed config as a user writes it: the runner's helper, a type annotation, a relative TS import. */
const TYPED = `
import { defineExperiment, type ExperimentInput } from 'diffusionlab';
import { T } from './shared';

const steps: number = 10;
const training: ExperimentInput['training'] = { epochs: 2, batchSize: 16 };

export default defineExperiment({
  name: 'typed',
  seed: 3,
  backend: 'cpu',
  dataset: { use: 'gaussian-mixture', size: 32, components: [{ mean: -1, std: 0.5 }, { mean: 1, std: 0.5 }] },
  schedule: { use: 'linear', timesteps: T },
  denoiser: { use: 'seed-mlp', hidden: 8 },
  sampler: { use: 'ddim', steps },
  training,
  evaluation: { samples: 16, metrics: ['w1'] },
  reporters: ['summary'],
});
`;

function write(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('TypeScript configs (experiment.config.ts)', () => {
  it('recognises .ts/.mts/.cts but not declaration files', () => {
    expect(['a.ts', 'a.mts', 'a.cts', 'a.config.ts'].map(isTsConfigFile)).toEqual([true, true, true, true]);
    expect(['a.d.ts', 'a.yaml', 'a.json', 'a.tsx'].map(isTsConfigFile)).toEqual([false, false, false, false]);
  });

  it('loads defineExperiment({...}) with types and relative TS imports, validates it, and takes overrides', async () => {
    const dir = tmp();
    write(dir, 'shared.ts', 'export const T: number = 25;\n');
    const cfg = write(dir, 'experiment.config.ts', TYPED);
    const { resolved } = await loadExperiment(cfg, ['sampler.steps=5']);
    expect(resolved.experiment.name).toBe('typed');
    expect(resolved.schedule.options.timesteps).toBe(25);
    expect(resolved.sampler.use).toBe('ddim');
    expect(resolved.sampler.options.steps).toBe(5);
    expect(resolved.experiment.training.epochs).toBe(2);
    expect(await main(['validate', cfg])).toBe(0);
  });

  it('runs through the CLI end to end', async () => {
    const dir = tmp();
    write(dir, 'shared.ts', 'export const T = 10;\n');
    const cfg = write(dir, 'experiment.config.ts', TYPED);
    const out = join(dir, 'run');
    const write0 = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await main(['run', cfg, '--out', out])).toBe(0);
    } finally {
      process.stdout.write = write0;
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.name).toBe('typed');
    expect(summary.sampling.nfe).toBe(10);
  });

  it('composes with extends in both directions and accepts a function export', async () => {
    const dir = tmp();
    write(
      dir,
      'base.yaml',
      'name: base\nbackend: cpu\ndataset: { use: gaussian-mixture, size: 32, components: [{ mean: 0, std: 1 }] }\nschedule: { use: linear, timesteps: 12 }\ndenoiser: { use: seed-mlp }\nsampler: { use: ddpm }\n',
    );
    const ts = write(dir, 'child.config.ts', "export default () => ({ extends: './base.yaml', name: 'child', sampler: { use: 'ddim', steps: 4 } });\n");
    const a = await loadExperiment(ts);
    expect(a.resolved.experiment.name).toBe('child');
    expect(a.resolved.schedule.options.timesteps).toBe(12);
    expect(a.resolved.sampler.options.steps).toBe(4);
    const yaml = write(dir, 'grandchild.yaml', 'extends: ./child.config.ts\nseed: 9\n');
    const b = await loadExperiment(yaml);
    expect(b.resolved.experiment.seed).toBe(9);
    expect(b.resolved.sampler.use).toBe('ddim');
  });

  it('reports bad TypeScript configs clearly', async () => {
    const dir = tmp();
    expect(() => loadTsConfig(write(dir, 'empty.ts', '  \n'))).toThrow(/is empty/);
    expect(() => loadTsConfig(write(dir, 'nodefault.ts', 'export const config = { name: "x" };\n'))).toThrow(
      /must `export default defineExperiment\(\{ … \}\)`, got no default export/,
    );
    expect(() => loadTsConfig(write(dir, 'async.ts', 'export default async () => ({ name: "x" });\n'))).toThrow(/async configs are not supported/);
    expect(() => loadTsConfig(write(dir, 'throws.ts', 'throw new Error("boom");\nexport default {};\n'))).toThrow(/throws\.ts failed to evaluate: boom/);
    expect(() => loadTsConfig(write(dir, 'syntax.ts', 'export default { name: ;\n'))).toThrow(/syntax\.ts (is not valid TypeScript|failed to evaluate)/);
    // Schema errors name the key exactly as for YAML.
    const bad = write(
      dir,
      'bad.config.ts',
      "export default { name: 'x', dataset: { use: 'gaussian-mixture' }, schedule: { use: 'linear', timestep: 5 }, denoiser: { use: 'seed-mlp' }, sampler: { use: 'ddpm' } };\n",
    );
    await expect(loadExperiment(bad)).rejects.toThrow(/schedule\.timestep: unknown key; did you mean "timesteps"/);
  });
});
