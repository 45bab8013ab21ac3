/**
 * summary.json records what the sampler reports about its own run (`SampleOutput.info`) under
 * `sampling.samplerInfo`, as-is: the runner knows no sampler option keys. Checked end to end with
 * the oracle on cosine T = 1000, where the σ-space samplers' σ_max bound (80) is in force.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';

const CONFIG = `
name: sampler-info
seed: 3
backend: cpu
dataset: { use: gaussian-mixture, size: 100, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: cosine, timesteps: 1000 }
denoiser: { use: oracle }
training: { predictionType: epsilon }
sampler: { use: dpmpp-2m, steps: 10 }
evaluation: { samples: 200, metrics: [w1] }
reporters: [{ use: summary }]
`;

async function summaryOf(overrides: string[]): Promise<{ sampling: Record<string, unknown> }> {
  const dir = mkdtempSync(join(tmpdir(), 'dl-sampler-info-'));
  const cfg = join(dir, 'c.yaml');
  writeFileSync(cfg, CONFIG);
  const loaded = await loadExperiment(cfg, overrides);
  await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { out: join(dir, 'run'), print: () => {} });
  return JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
}

describe('summary.json sampling.samplerInfo', () => {
  it('holds the σ_max bound and the σ the run started from, and is absent for a sampler that reports nothing', async () => {
    const bounded = await summaryOf([]);
    expect(bounded.sampling.samplerInfo).toEqual({ sigmaMax: 80, sigmaStart: expect.closeTo(80, 6) });
    const free = await summaryOf(['sampler.sigmaMax=false']);
    expect((free.sampling.samplerInfo as { sigmaStart: number }).sigmaStart).toBeGreaterThan(2e4);
    expect((free.sampling.samplerInfo as { sigmaMax: unknown }).sigmaMax).toBe(false);
    const ddim = await summaryOf(['sampler={use: ddim, steps: 10}']);
    expect(ddim.sampling.samplerInfo).toBeUndefined();
  });
});
