import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type NoiseSchedule, type Sampler } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupBackend } from './backend.js';
import { activateBackend, checkSampler, instantiatePlugins } from './experiment.js';
import { loadExperiment } from './load.js';

const CONFIG = `name: plumbing
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
schedule: { use: linear, timesteps: 20 }
denoiser: { use: seed-mlp, hidden: 16 }
sampler: { use: ddim, steps: 10 }
evaluation: { samples: 32, metrics: [w1] }
reporters: [summary]
`;

const quiet = { seed: 0, print: () => {}, interactive: false };

async function resolved(overrides: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'dl-experiment-'));
  writeFileSync(join(dir, 'c.yaml'), CONFIG);
  return { dir, r: (await loadExperiment(join(dir, 'c.yaml'), overrides)).resolved };
}

describe('instantiatePlugins and activateBackend', () => {
  it('instantiating is pure: the global backend stays, nothing is written; activating switches it', async () => {
    await setupBackend('cpu');
    const { dir, r } = await resolved(['backend=wasm']);
    const plugins = await instantiatePlugins(r, quiet);
    expect(plugins.schedule.numTrainTimesteps).toBe(20);
    expect(plugins.sampler.name).toBe('ddim');
    expect(tf.getBackend()).toBe('cpu');
    expect(readdirSync(dir)).toEqual(['c.yaml']);
    const backend = await activateBackend(r, plugins);
    expect(backend.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    await setupBackend('cpu');
  });

  it('refuses steps > T through the sampler’s own check, before any backend', async () => {
    const { r } = await resolved(['sampler.steps=21']);
    await expect(instantiatePlugins(r, quiet)).rejects.toThrow(/sampler\.steps: 21 sampling steps exceed the schedule's 20 training timesteps/);
  });

  it('refuses a default step count above T before any backend (ddim’s 100 on T = 20)', async () => {
    const { r } = await resolved(['sampler={use: ddim}']);
    await expect(instantiatePlugins(r, quiet)).rejects.toThrow(/sampler\.steps: 100 sampling steps exceed the schedule's 20 training timesteps/);
  });
});

describe('checkSampler', () => {
  const schedule = { numTrainTimesteps: 20 } as NoiseSchedule;
  const slot = { path: 'sampler' } as Parameters<typeof checkSampler>[0];
  const sampler = (check?: Sampler['check']) => ({ name: 'x', defaultSteps: 1, timesteps: () => [0], sample: async () => ({}) as never, check }) as Sampler;

  it('passes a sampler without a check, and a diffusionlab error through as it is', () => {
    expect(() => checkSampler(slot, sampler(), schedule)).not.toThrow();
    const own = new ConfigError({ path: 'sampler.steps', message: 'too many' });
    expect(() =>
      checkSampler(
        slot,
        sampler(() => {
          throw own;
        }),
        schedule,
      ),
    ).toThrow(own);
  });

  it('asks a sampler without a check for the timesteps of its planned steps, and reports its plain error at the sampler’s key', () => {
    const asked: number[] = [];
    const thirdParty = {
      ...sampler(),
      defaultSteps: 30,
      timesteps: (s: NoiseSchedule, steps: number) => {
        asked.push(steps);
        if (steps > s.numTrainTimesteps) throw new Error(`${steps} steps on T = ${s.numTrainTimesteps}`);
        return [0];
      },
    } as Sampler;
    expect(() => checkSampler(slot, thirdParty, schedule)).toThrow(/sampler: 30 steps on T = 20/);
    expect(() => checkSampler(slot, { ...thirdParty, defaultStepsFor: () => 20 }, schedule)).not.toThrow();
    expect(asked).toEqual([30, 20]);
  });

  it('reports a plain error from a third-party check at the sampler’s key', () => {
    const bad = sampler(() => {
      throw new Error('needs T ≥ 50');
    });
    expect(() => checkSampler(slot, bad, schedule)).toThrow(ConfigError);
    expect(() => checkSampler(slot, bad, schedule)).toThrow(/sampler: needs T ≥ 50/);
  });
});
