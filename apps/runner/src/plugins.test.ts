import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, decodeNpy } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { sampleRun } from './sample.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dl-plugins-'));
const fixtures = fileURLToPath(new URL('../test-fixtures/', import.meta.url));
const EXAMPLE = join(fixtures, 'diffusionlab-plugin-example');

const config = (plugins: string, sampler = 'x0-jump') => `
name: plugged
seed: 5
backend: cpu
plugins: ${plugins}
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 2, batchSize: 16 }
sampler: { use: ${sampler} }
evaluation: { samples: 32, metrics: [w1] }
reporters: [summary]
`;

/** A temp project with the fixture installed under node_modules by name, as `pnpm add` would. */
function project(): string {
  const dir = tmp();
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(EXAMPLE, join(dir, 'node_modules', 'diffusionlab-plugin-example'), 'dir');
  symlinkSync(join(fixtures, 'not-a-plugin'), join(dir, 'node_modules', 'not-a-plugin'), 'dir');
  return dir;
}

describe('third-party plugin packages (plugins:)', () => {
  it('loads a package by name from the config’s node_modules and runs its sampler', async () => {
    const dir = project();
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, config('[diffusionlab-plugin-example]'));
    const loaded = await loadExperiment(cfg);
    expect(loaded.resolved.sampler.use).toBe('x0-jump');
    expect(loaded.registry.originOf(loaded.resolved.sampler.def)).toBe('diffusionlab-plugin-example');
    const { runDir, summary } = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out: join(dir, 'run'), print: () => {} });
    expect(summary.sampling).toMatchObject({ sampler: 'x0-jump', nfe: 1, steps: 1 });
    expect(decodeNpy(new Uint8Array(readFileSync(join(runDir, 'samples.npy')))).shape).toEqual([32, 1]);
    // `sample --trust` finds the package again from the run's original config folder (without
    // --trust it refuses to load code a run folder names: sample-trust.test.ts).
    const res = await sampleRun(runDir, ['sampler.use=ddim', 'sampler.steps=4'], { out: join(dir, 's'), print: () => {}, trust: true });
    expect((res.summary.sampling as { nfe: number }).nfe).toBe(4);
    const back = await sampleRun(runDir, [], { out: join(dir, 's2'), print: () => {}, trust: true });
    expect(back.summary.metrics).toEqual(summary.metrics);
  });

  it('loads a package by relative or absolute path (a folder with package.json)', async () => {
    const dir = tmp();
    symlinkSync(EXAMPLE, join(dir, 'vendored-plugin'), 'dir');
    mkdirSync(join(dir, 'configs'));
    const cfg = join(dir, 'configs', 'c.yaml');
    // Relative specs resolve from the config's own folder.
    writeFileSync(cfg, config('[../vendored-plugin]'));
    expect((await loadExperiment(cfg, [], tmpdir())).resolved.sampler.def.name).toBe('x0-jump');
    writeFileSync(cfg, config(`[${JSON.stringify(EXAMPLE)}]`));
    expect((await loadExperiment(cfg, [], tmpdir())).resolved.sampler.def.name).toBe('x0-jump');
  });

  it('a missing package or one that exports something else is a clear error at plugins[i]', async () => {
    const dir = project();
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, config('[no-such-diffusionlab-plugin]', 'ddpm'));
    const missing = await loadExperiment(cfg).catch((e) => e);
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing.message).toMatch(/plugins\[0\]: plugin package "no-such-diffusionlab-plugin" is not installed.*pnpm add no-such-diffusionlab-plugin/);
    writeFileSync(cfg, config('[diffusionlab-plugin-example, not-a-plugin]', 'ddpm'));
    const wrong = await loadExperiment(cfg).catch((e) => e);
    expect(wrong).toBeInstanceOf(ConfigError);
    expect(wrong.message).toMatch(/plugins\[1\]: package "not-a-plugin" does not export `plugins`/);
    // Without the package, its sampler is an unknown name with the valid choices listed.
    writeFileSync(cfg, config('[]'));
    await expect(loadExperiment(cfg)).rejects.toThrow(/sampler\.use: unknown sampler "x0-jump".*valid: .*ddim/s);
  });
});
