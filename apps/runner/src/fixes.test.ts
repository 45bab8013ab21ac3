/**
 * Every fix any warning can suggest is accepted by the tool: for each warning source (schedule
 * diagnostics, every sampler's advice, the divergence check) a config that triggers it, and each
 * suggested fix run through the real `validate`, which must accept it and no longer raise that warning.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Advice, parseOptions, samplerObjectives, scheduleDiagnostics } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { checkDivergence } from './divergence.js';
import { loadExperiment } from './load.js';
import { builtinRegistry } from './plugins.js';
import { instantiatePlugins } from './run.js';
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
const SEED = write(
  'seed.yaml',
  `name: seed${common}schedule: { use: linear, timesteps: 100 }\ndenoiser: { use: seed-mlp, hidden: 16 }\nsampler: { use: ddpm }\ntraining: { predictionType: epsilon }\n`,
);
/** A trained ε-model on cosine T = 1000 (σ_max ≈ 2·10⁴). */
const TRAINED = write(
  'trained.yaml',
  `name: trained${common}schedule: { use: cosine, timesteps: 1000 }\ndenoiser: { use: seed-mlp, hidden: 16 }\nsampler: { use: ddpm }\ntraining: { predictionType: epsilon }\n`,
);
/** The exact denoiser on cosine T = 1000 (oracle-samplers). */
const ORACLE = write(
  'oracle.yaml',
  `name: oracle${common}schedule: { use: cosine, timesteps: 1000 }\ndenoiser: { use: oracle }\nsampler: { use: ddpm }\ntraining: { predictionType: epsilon }\n`,
);

async function adviceFor(cfg: string, overrides: string[]): Promise<Advice[]> {
  const { resolved } = await loadExperiment(cfg, overrides);
  const plugins = await instantiatePlugins(resolved, { seed: 0, print: () => {}, interactive: false });
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
      expect(
        after.map((b) => JSON.stringify(b.fixes)),
        label,
      ).not.toContain(JSON.stringify(a.fixes));
      n++;
    }
  }
  return n;
}

const samplers = builtinRegistry().names('sampler');
/**
 * The training objective a sampler's model needs, as overrides: none for DDPM-family samplers,
 * `training.objective=flow` for those that declare only flow (read from the sampler, never its name).
 */
const objectiveFor = (name: string): string[] => {
  const plugin = builtinRegistry().get('sampler', name);
  const objectives = samplerObjectives(plugin.create(parseOptions(plugin.options, {}, 'sampler')));
  return objectives.includes('ddpm') ? [] : [`training.objective=${objectives[0]}`];
};
/** `key=value` overrides for the options `name` accepts, of those given; why: ddpm and ddim have no σ grid. */
const accepted = (name: string, options: Record<string, unknown>) =>
  Object.entries(options)
    .filter(
      ([k, v]) =>
        builtinRegistry()
          .get('sampler', name)
          .options.safeParse({ [k]: v }).success,
    )
    .map(([k, v]) => `sampler.${k}=${v}`);
/** The σ_max bound off, on each grid (the combinations the advice is about), where the sampler has them. */
const unbounded = (name: string) => [accepted(name, { sigmaMax: false, sigmas: 'default' }), accepted(name, { sigmaMax: false, sigmas: 'karras' })];

describe('every suggested fix is accepted by the tool', () => {
  it('the schedule diagnostics (seed example): more timesteps, cosine, or zero terminal SNR together with v-prediction', async () => {
    const advice = await adviceFor(SEED, []);
    expect(advice.flatMap((a) => a.fixes)).toContainEqual(['schedule.rescaleZeroTerminalSnr=true', 'training.predictionType=v']);
    // The fix alone is refused (ε-prediction at ᾱ_T = 0), which is why it is never suggested alone.
    await expect(validate([SEED, 'schedule.rescaleZeroTerminalSnr=true'])).rejects.toThrow(/training\.predictionType/);
    expect(await checkEveryFix(SEED, [])).toBe(3);
  });

  it('every sampler with a trained ε-model on cosine T = 1000: quiet at the defaults but for ddim; with the σ_max bound off, every fix', async () => {
    for (const name of samplers) {
      const base = [`sampler.use=${name}`, ...objectiveFor(name)];
      // The default bound starts every σ-space sampler at σ = 80; ddim has none and starts at 2·10⁴.
      expect((await adviceFor(TRAINED, base)).length, name).toBe(name === 'ddim' ? 1 : 0);
      expect(await checkEveryFix(TRAINED, base), name).toBe(name === 'ddim' ? 3 : 0);
      for (const off of unbounded(name)) {
        const advice = await adviceFor(TRAINED, [...base, ...off]);
        if (off.length > 0) expect(advice.length, `${name} ${off.join(' ')}`).toBeGreaterThanOrEqual(1);
        await checkEveryFix(TRAINED, [...base, ...off]);
      }
    }
  }, 120_000);

  it('every sampler with the exact denoiser: quiet at the defaults; heun on the default grid and Karras grids from σ > 10³ with the bound off', async () => {
    for (const name of samplers) {
      const base = [`sampler.use=${name}`, ...objectiveFor(name)];
      expect(await adviceFor(ORACLE, base), name).toEqual([]);
      expect(await adviceFor(ORACLE, [...base, ...accepted(name, { sigmas: 'karras' })]), name).toEqual([]);
      const [onDefault, onKarras] = unbounded(name);
      if (onKarras.length === 0) continue;
      // The Karras grid from 2·10⁴: one warning, whose fix (the bound) validates and removes it.
      expect(await checkEveryFix(ORACLE, [...base, ...onKarras]), name).toBe(1);
      // The default grid from 2·10⁴: only heun's trapezoid is poor there (its two fixes).
      expect(await checkEveryFix(ORACLE, [...base, ...onDefault]), name).toBe(name === 'heun' ? 2 : 0);
    }
    // heun's own default grid is Karras: with the bound off, that is the warning it gets.
    expect((await adviceFor(ORACLE, ['sampler.use=heun', 'sampler.sigmaMax=false'])).map((a) => a.fixes)).toEqual([[['sampler.sigmaMax=80']]]);
  }, 120_000);

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
  it('names heun on the default grid from σ > 10³ (bound off) and its fixes before any work; nothing at the defaults', async () => {
    const out = await validateOutput([ORACLE, 'sampler.use=heun', 'sampler.sigmaMax=false', 'sampler.sigmas=default']);
    expect(out).toMatch(/^warning: sampler heun takes its first second-order step from σ = 2\.03e\+4 .* Fix: sampler\.sigmaMax=80, or sampler\.use=dpmpp-2m\.$/m);
    expect(out.indexOf('warning: sampler heun')).toBeLessThan(out.indexOf('is valid'));
    const defaults = await validateOutput([ORACLE, 'sampler.use=heun']);
    expect(defaults).not.toMatch(/warning/);
    expect(defaults).toMatch(/is valid/);
  });
});

/** `diffusionlab validate` with stdout captured; resolves to what it printed (it must exit 0). */
async function validateOutput(argv: string[]): Promise<string> {
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((c: string) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stdout.write;
  try {
    expect(await main(['validate', ...argv])).toBe(0);
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}
