/**
 * Every fix any warning can suggest is accepted by the tool: for each warning source (schedule
 * diagnostics, every sampler's advice, the divergence check) a config that triggers it, and each
 * suggested fix run through the real `validate`, which must accept it and no longer raise that warning.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Advice, scheduleDiagnostics } from '@diffusionlab/core';
import { SAMPLER_ADVICE } from '@diffusionlab/samplers';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { checkDivergence } from './divergence.js';
import { loadExperiment } from './load.js';
import { builtinRegistry } from './plugins.js';
import { checkPlugins } from './run.js';
import { configAdvice } from './warnings.js';

const dir = mkdtempSync(join(tmpdir(), 'dl-fixes-'));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const common = `
backend: cpu
dataset: { use: gaussian-mixture, size: 64, components: [{ mean: -2, std: 0.5 }, { mean: 2, std: 0.5 }] }
evaluation: { samples: 64, metrics: [w1] }
reporters: [summary]
`;
/** The seed example's schedule (ᾱ_T ≈ 0.36): the schedule diagnostics warn. */
const SEED = write('seed.yaml', `name: seed${common}schedule: { use: linear, timesteps: 100 }\ndenoiser: { use: seed-mlp, hidden: 16 }\nsampler: { use: ddpm }\ntraining: { predictionType: epsilon }\n`);
/** A trained ε-model on cosine T = 1000 (σ_max ≈ 2·10⁴). */
const TRAINED = write('trained.yaml', `name: trained${common}schedule: { use: cosine, timesteps: 1000 }\ndenoiser: { use: seed-mlp, hidden: 16 }\nsampler: { use: ddpm }\ntraining: { predictionType: epsilon }\n`);
/** The exact denoiser on cosine T = 1000 (oracle-samplers). */
const ORACLE = write('oracle.yaml', `name: oracle${common}schedule: { use: cosine, timesteps: 1000 }\ndenoiser: { use: oracle }\nsampler: { use: ddpm }\ntraining: { predictionType: epsilon }\n`);

async function adviceFor(cfg: string, overrides: string[]): Promise<Advice[]> {
  const { resolved } = await loadExperiment(cfg, overrides);
  const plugins = await checkPlugins(resolved, { seed: 0, print: () => {}, interactive: false });
  return configAdvice(resolved, plugins, scheduleDiagnostics(plugins.schedule));
}

/** `diffusionlab validate` with stdout captured; resolves to its exit code (it throws on a refusal). */
async function validate(argv: string[]): Promise<number> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await main(['validate', ...argv]);
  } finally {
    process.stdout.write = write;
  }
}

/** Runs every fix of every advice for (cfg, overrides): validate accepts it, and that warning is gone. */
async function checkEveryFix(cfg: string, overrides: string[]): Promise<number> {
  const advice = await adviceFor(cfg, overrides);
  let n = 0;
  for (const a of advice) {
    for (const fix of a.fixes) {
      const label = `${overrides.join(' ')} + ${fix.join(' ')}`;
      await expect(validate([cfg, ...overrides, ...fix]), label).resolves.toBe(0);
      const after = await adviceFor(cfg, [...overrides, ...fix]);
      expect(after.map((b) => JSON.stringify(b.fixes)), label).not.toContain(JSON.stringify(a.fixes));
      n++;
    }
  }
  return n;
}

const samplers = builtinRegistry().names('sampler');
const karrasOverride = (name: string) => (builtinRegistry().get('sampler', name).options.safeParse({ sigmas: 'karras' }).success ? ['sampler.sigmas=karras'] : []);

describe('every suggested fix is accepted by the tool', () => {
  it('the schedule diagnostics (seed example): more timesteps, cosine, or zero terminal SNR together with v-prediction', async () => {
    const advice = await adviceFor(SEED, []);
    expect(advice.flatMap((a) => a.fixes)).toContainEqual(['schedule.rescaleZeroTerminalSnr=true', 'training.predictionType=v']);
    // The fix alone is refused (ε-prediction at ᾱ_T = 0), which is why it is never suggested alone.
    await expect(validate([SEED, 'schedule.rescaleZeroTerminalSnr=true'])).rejects.toThrow(/training\.predictionType/);
    expect(await checkEveryFix(SEED, [])).toBe(3);
  });

  it('every sampler: a trained ε-model at a huge σ_max, and Karras σs from it', async () => {
    for (const name of samplers) {
      const overrides = [`sampler.use=${name}`, ...karrasOverride(name)];
      const advice = await adviceFor(TRAINED, overrides);
      expect(advice.length, name).toBe(SAMPLER_ADVICE[name]?.length ?? 0);
      await checkEveryFix(TRAINED, overrides);
    }
  }, 60_000);

  it('every sampler with the exact denoiser (heun from σ_max, Karras grids)', async () => {
    for (const name of samplers) {
      await checkEveryFix(ORACLE, [`sampler.use=${name}`]);
      await checkEveryFix(ORACLE, [`sampler.use=${name}`, ...karrasOverride(name)]);
    }
    expect((await adviceFor(ORACLE, ['sampler.use=heun'])).length).toBe(1);
  }, 60_000);

  it('the divergence warning: its own fix (more steps) validates', async () => {
    const { resolved } = await loadExperiment(SEED, ['sampler.steps=5']);
    const wide = Float32Array.from({ length: 64 }, (_, i) => (i % 2 ? 100 : -100) * (1 + i / 64));
    const ref = Float32Array.from({ length: 64 }, (_, i) => (i % 2 ? 2 : -2) + i / 640);
    const d = checkDivergence({ samples: wide, reference: ref, dim: 1, metrics: [], causes: [], steps: 5, numTrainTimesteps: 100 });
    expect(d?.fixes).toEqual([['sampler.steps=50']]);
    for (const fix of d?.fixes ?? []) await expect(validate([SEED, 'sampler.steps=5', ...fix])).resolves.toBe(0);
    expect(resolved.sampler.options.steps).toBe(5);
  });
});

describe('validate prints the warnings a run would start with', () => {
  it('names heun from a huge σ_max and its fix before any work', async () => {
    const chunks: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((c: string) => {
      chunks.push(String(c));
      return true;
    }) as typeof process.stdout.write;
    try {
      expect(await main(['validate', ORACLE, 'sampler.use=heun'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    const out = chunks.join('');
    expect(out).toMatch(/^warning: sampler heun starts its σ grid at σ_max = 2\.03e\+4 .* Fix: sampler\.timestepSpacing=leading, or sampler\.use=dpmpp-2m\.$/m);
    expect(out).toMatch(/is valid/);
  });
});
