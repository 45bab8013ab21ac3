import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { main } from './cli.js';
import { diffKeys } from './config-diff.js';
import { resolvedConfigObject, resolveExperiment } from './config.js';
import { builtinRegistry } from './plugins.js';
import { savedConfigWithCurrentDefaults } from './saved-config.js';

const RAW = {
  name: 'upgrade',
  seed: 3,
  backend: 'cpu',
  dataset: {
    use: 'gaussian-mixture',
    size: 64,
    components: [
      { mean: -2, std: 0.5 },
      { mean: 2, std: 0.5 },
    ],
  },
  schedule: { use: 'linear', timesteps: 20 },
  denoiser: { use: 'seed-mlp', hidden: 8 },
  training: { steps: 20, batchSize: 16 },
  sampler: { use: 'ddpm' },
  evaluation: { samples: 50, metrics: ['w1'] },
  reporters: ['summary'],
};

/** A resolved config as an older version wrote it: without the keys this version added with their defaults. */
function olderSave(current: Record<string, unknown>): Record<string, unknown> {
  const saved = structuredClone(current) as { training: Record<string, unknown> };
  delete saved.training.beta1;
  delete saved.training.epsilon;
  return saved;
}

describe('a saved config read through the current schemas', () => {
  const r = resolveExperiment(structuredClone(RAW), builtinRegistry());
  const current = resolvedConfigObject(r);

  it('fills keys a newer version added with their defaults, so they are no difference', () => {
    const saved = olderSave(current);
    expect(diffKeys(saved, current)).toEqual(expect.arrayContaining(['training.beta1', 'training.epsilon']));
    expect(diffKeys(savedConfigWithCurrentDefaults(saved, r), current)).toEqual([]);
  });

  it('still reports a value the user changed, and a different plugin', () => {
    const lr = olderSave(current) as { training: Record<string, unknown> };
    lr.training.learningRate = 0.5;
    expect(diffKeys(savedConfigWithCurrentDefaults(lr, r), current)).toEqual(['training.learningRate']);
    const other = { ...olderSave(current), sampler: { use: 'ddim' } };
    expect(diffKeys(savedConfigWithCurrentDefaults(other, r), current)[0]).toBe('sampler.use');
  });

  it('lets --resume continue a run directory whose config.yaml an older version wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-upgrade-'));
    const cfg = join(dir, 'run.yaml');
    writeFileSync(cfg, YAML.stringify(RAW));
    const out = join(dir, 'run');
    const quiet = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await main(['run', cfg, '--out', out])).toBe(0);
      const first = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      // As if the run had died after training under the older version: no summary, the older config.yaml.
      rmSync(join(out, 'summary.json'));
      writeFileSync(join(out, 'config.yaml'), YAML.stringify(olderSave(YAML.parse(readFileSync(join(out, 'config.yaml'), 'utf8')))));
      expect(await main(['run', cfg, '--out', out, '--resume'])).toBe(0);
      const resumed = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(resumed.metrics).toEqual(first.metrics);
      // A changed value is still refused.
      rmSync(join(out, 'summary.json'));
      expect(String(await main(['run', cfg, 'training.learningRate=0.5', '--out', out, '--resume']).catch((e: Error) => e))).toMatch(
        /training\.learningRate.*differs from the run being resumed/,
      );
    } finally {
      process.stdout.write = quiet;
    }
  }, 120_000);
});
