import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkTerms, formatBytes, MEMORY_LIMIT_ENV, memoryBudget, parseBytes } from './limits.js';
import { loadExperiment } from './load.js';
import { instantiatePlugins } from './run.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'dl-limits-'));

const BASE = `name: limits
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20 }
denoiser: { use: seed-mlp, hidden: 16 }
training: { epochs: 1, batchSize: 16 }
sampler: { use: ddpm }
evaluation: { samples: 64, metrics: [w1] }
reporters: [summary]
`;

/** Loads and plugin-checks a config with overrides, as `validate` does; returns the error message or 'ok'. */
async function check(overrides: string[], dataset?: string): Promise<string> {
  const cfg = join(tmp(), 'c.yaml');
  writeFileSync(cfg, dataset ? BASE.replace(/^dataset: .*$/m, `dataset: ${dataset}`) : BASE);
  try {
    const { resolved } = await loadExperiment(cfg, overrides);
    await instantiatePlugins(resolved, { seed: 0, print: () => {}, interactive: false });
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('memory limits checked before any work (issue 13)', () => {
  it('refuses what cannot fit, naming the key, the estimate and the machine memory', async () => {
    const samples = await check(['evaluation.samples=1e9']);
    expect(samples).toMatch(/evaluation\.samples: needs about [\d.]+ [GT]B .* but this machine has [\d.]+ GB, [\d.]+ GB available/);
    expect(await check(['dataset.size=1e12'])).toMatch(/dataset\.size: needs about 12 TB for 1000000000000 training rows of 1 value/);
    expect(await check(['denoiser.use=mlp', 'denoiser.width=8192', 'denoiser.depth=64'])).toMatch(/denoiser\.width: needs about [\d.]+ GB for 1\.29e\+10 parameters/);
    expect(await check(['dataset.use=moons', 'dataset.size=1e12'])).toMatch(/dataset\.size: needs about 24 TB for 1000000000000 training rows of 2 values/);
    expect(await check([])).toBe('ok');
  });

  it('schema maxima follow the fused kernel: seed-mlp hidden and mlp width stop at 8192', async () => {
    expect(await check(['denoiser.hidden=65536'])).toMatch(/denoiser\.hidden: Too big: expected number to be <=8192/);
    expect(await check(['denoiser.use=mlp', 'denoiser.width=16384'])).toMatch(/denoiser\.width: Too big: expected number to be <=8192/);
  });

  it('`validate` refuses evaluation.samples=1e9 in a real process, at once and before any run directory exists', () => {
    const dir = tmp();
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, BASE);
    const t0 = Date.now();
    const r = spawnSync(
      process.execPath,
      ['--import', join(here, '..', 'test-fixtures', 'ts-hooks.mjs'), join(here, 'bin.ts'), 'run', cfg, 'evaluation.samples=1e9', '--out', join(dir, 'run')],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/evaluation\.samples: needs about/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'run'))).toBe(false);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it(`${MEMORY_LIMIT_ENV} caps the budget, so a data file over it is refused before it is read`, async () => {
    const dir = tmp();
    const csv = join(dir, 'data.csv');
    writeFileSync(csv, `x,y\n${Array.from({ length: 20_000 }, (_, i) => `${i % 7}.25,${i % 5}.5`).join('\n')}\n`);
    const prev = process.env[MEMORY_LIMIT_ENV];
    try {
      process.env[MEMORY_LIMIT_ENV] = '500kB';
      expect(await check([], `{ use: file, path: ${csv} }`)).toMatch(
        /dataset\.path: needs about [\d.]+ [kM]B for parsing .*data\.csv \([\d.]+ MiB of csv\), but DIFFUSIONLAB_MEMORY_LIMIT allows 500 kB/,
      );
      process.env[MEMORY_LIMIT_ENV] = '1GB';
      expect(await check([], `{ use: file, path: ${csv} }`)).toBe('ok');
      process.env[MEMORY_LIMIT_ENV] = 'lots';
      expect(() => memoryBudget()).toThrow(/"lots" is not a byte count/);
    } finally {
      if (prev === undefined) delete process.env[MEMORY_LIMIT_ENV];
      else process.env[MEMORY_LIMIT_ENV] = prev;
    }
  });

  it('parses and formats byte counts; sums terms and names the largest', () => {
    expect(parseBytes('512MiB')).toBe(512 * 2 ** 20);
    expect(parseBytes('2GB')).toBe(2e9);
    expect(parseBytes('12')).toBe(12);
    expect(parseBytes('x')).toBeNull();
    expect(formatBytes(1.5e9)).toBe('1.5 GB');
    const budget = { bytes: 100, describe: 'test budget 100 B' };
    expect(() =>
      checkTerms(
        [
          { key: 'a', bytes: 60, what: 'A' },
          { key: 'b', bytes: 50, what: 'B' },
        ],
        budget,
      ),
    ).toThrow(/a: needs about 60 B for A \(whole run about 110 B: a 60 B, b 50 B\), but test budget 100 B/);
    expect(() => checkTerms([{ key: 'a', bytes: 60, what: 'A' }], budget)).not.toThrow();
  });
});
