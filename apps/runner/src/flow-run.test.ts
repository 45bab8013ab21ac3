/**
 * `training.objective: flow` end to end through the runner: a small flow-matching run trains (the
 * fused path included), samples with flow-euler and records its objective; a DDPM-family sampler
 * for a flow model, or a flow sampler for a DDPM model, is refused before any work at `validate`,
 * `run` and `sample`, with the key and the samplers that fit.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@diffusionlab/core';
import { mlpTrainAccelerator } from '@diffusionlab/kernels';
import { describe, expect, it } from 'vitest';
import { instantiatePlugins } from './experiment.js';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';
import { sampleRun } from './sample.js';

const FLOW = `
name: small-flow
seed: 3
backend: cpu
dataset: { use: gaussian-mixture, size: 256, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 100 }
denoiser: { use: mlp, width: 32, depth: 1, timeEmbedding: 16 }
training: { objective: flow, epochs: 40, batchSize: 64, learningRate: 0.003 }
sampler: { use: flow-euler, steps: 20 }
evaluation: { samples: 400, metrics: [w1, modes] }
reporters: [{ use: summary }]
`;

const quiet = { print: () => {} };

async function load(dir: string, overrides: string[] = [], text = FLOW) {
  const cfg = join(dir, 'flow.yaml');
  writeFileSync(cfg, text);
  return await loadExperiment(cfg, overrides);
}

async function refusal(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error('not refused');
}

describe('training.objective flow in the runner', () => {
  it('trains on the fused path, samples with flow-euler, records the objective and finds both modes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-flow-'));
    const loaded = await load(dir);
    const { runDir, summary } = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), { ...quiet, out: join(dir, 'run'), accelerator: mlpTrainAccelerator });
    const s = summary as { objective: string; training: { path: string }; sampling: { nfe: number; sampler: string }; metrics: Record<string, number> };
    expect(s.objective).toBe('flow');
    expect(s.training.path).toBe('fused:wasm-simd-mlp');
    expect(s.sampling).toMatchObject({ sampler: 'flow-euler', nfe: 20 });
    // Both modes hold about half the samples: a velocity read as ε would collapse or scatter them.
    const fractions = (summary.metrics as Record<string, unknown>).modeFractions as number[];
    for (const f of fractions) expect(Math.abs(f - 0.5)).toBeLessThan(0.12);
    expect(s.metrics.w1).toBeLessThan(0.5);
    expect(readFileSync(join(runDir, 'config.yaml'), 'utf8')).toMatch(/objective: flow/);
    // `sample` reuses the flow checkpoint with the other flow sampler, and refuses a DDPM one up front.
    const heun = await sampleRun(runDir, ['sampler.use=flow-heun', 'sampler.steps=10'], { ...quiet, out: join(dir, 'heun') });
    expect((heun.summary.sampling as { nfe: number }).nfe).toBe(19);
    const e = await refusal(sampleRun(runDir, ['sampler.use=ddpm'], { ...quiet, out: join(dir, 'ddpm') }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.issues[0].path).toBe('sampler.use');
    expect(existsSync(join(dir, 'ddpm'))).toBe(false);
  }, 120_000);

  it('refuses a DDPM-family sampler for a flow model at validate time, naming the flow samplers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-flow-'));
    const loaded = await load(dir, ['sampler.use=ddim']);
    const e = await refusal(instantiatePlugins(loaded.resolved, { seed: 0, ...quiet, interactive: false }));
    expect(e.issues[0].path).toBe('sampler.use');
    expect(e.message).toMatch(/"ddim" integrates DDPM-family models .* training\.objective is flow/);
    expect(e.hint).toBe('use sampler.use=flow-dpmpp-2m-sde or sampler.use=flow-euler or sampler.use=flow-heun, or train with training.objective=ddpm');
  });

  it('refuses a flow sampler for a DDPM model, and flow-only options under ddpm', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-flow-'));
    const loaded = await load(dir, ['training.objective=ddpm']);
    const e = await refusal(instantiatePlugins(loaded.resolved, { seed: 0, ...quiet, interactive: false }));
    expect(e.issues[0].path).toBe('sampler.use');
    expect(e.message).toMatch(/"flow-euler" integrates flow-matching models .* training\.objective is ddpm/);
    expect(e.hint).toMatch(/^use sampler\.use=<one of (\S+, )+\S+>, or train with training\.objective=flow$/);
    expect(e.hint).toMatch(/\bddpm\b/);
    expect(e.hint).not.toMatch(/flow-/);
    const bad = await refusal(load(dir, ['training.predictionType=v']));
    expect(bad.issues.map((i) => i.path)).toEqual(['training.predictionType']);
  });
});
