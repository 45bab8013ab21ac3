import { type AnyPluginDefinition, type PluginContext, type Sampler, scheduleFromBetas } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { type AdviceRule, SAMPLER_ADVICE } from './advice.js';
import { ddpmFamilyPlugins, linearSchedule } from './fixtures.test-util.js';
import { plugins } from './index.js';

/** Nichol & Dhariwal's cosine ᾱ with β clipped at 0.999 (σ_max ≈ 2·10⁴ at T = 1000), built here to keep schedules out of this package. */
function cosineSchedule(T: number) {
  const f = (t: number) => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  return scheduleFromBetas(
    'cosine',
    Float64Array.from({ length: T }, (_, t) => Math.min(1 - f(t + 1) / f(t), 0.999)),
  );
}

const ctx: PluginContext = { seed: 0, print: () => {}, interactive: false };
const def = (name: string) => plugins.find((p) => p.name === name) as AnyPluginDefinition;
const make = (name: string, options: Record<string, unknown> = {}): Sampler => def(name).create(def(name).options.parse(options), ctx) as Sampler;
const adviceCtx = (s: Sampler, schedule = cosineSchedule(1000), predictionType: 'epsilon' | 'v' = 'epsilon', trainable = true) => ({
  schedule,
  predictionType,
  steps: s.defaultStepsFor?.(schedule) ?? s.defaultSteps,
  trainable,
});
const advise = (s: Sampler, schedule = cosineSchedule(1000), predictionType: 'epsilon' | 'v' = 'epsilon', trainable = true) =>
  s.advise?.(adviceCtx(s, schedule, predictionType, trainable)) ?? [];
/** The exact denoiser (nothing to magnify): only the grid's own conditions can fire. */
const adviseOracle = (s: Sampler, schedule = cosineSchedule(1000)) => advise(s, schedule, 'epsilon', false);
const sigmaSamplers = plugins.filter((p) => p.options.safeParse({ sigmaMax: false }).success).map((p) => p.name);

describe('sampler advice', () => {
  it('has σ-space samplers to check (every DDPM-family one but ddpm and ddim)', () => {
    expect(sigmaSamplers).toHaveLength(ddpmFamilyPlugins.length - 2);
    expect(sigmaSamplers).not.toContain('ddim');
  });

  it('warns a trained ε-model at a huge starting σ: ddim (no bound) at the defaults, σ-space samplers only with the bound off', () => {
    const ddim = advise(make('ddim'));
    expect(ddim.map((a) => a.message)).toEqual([expect.stringMatching(/sampler ddim .* σ = 2\.03e\+4/)]);
    expect(ddim[0].fixes).toEqual([['training.predictionType=v'], ['sampler.use=euler'], ['sampler.use=ddpm']]);
    expect(advise(make('ddpm'))).toEqual([]);
    expect(advise(make('ddim'), cosineSchedule(1000), 'v')).toEqual([]);
    expect(adviseOracle(make('ddim'))).toEqual([]);
    expect(advise(make('ddim'), linearSchedule(100))).toEqual([]);
    // leading spacing starts below T − 1, where σ is moderate: nothing to warn about.
    expect(advise(make('ddim', { timestepSpacing: 'leading' }))).toEqual([]);
    for (const name of sigmaSamplers) {
      // The default bound starts every σ-space sampler at σ = 80 < 100: fine.
      expect(advise(make(name)), name).toEqual([]);
      const off = advise(make(name, { sigmaMax: false, sigmas: 'default' }));
      const eps = off.filter((a) => a.message.includes('epsilon-prediction'));
      expect(
        eps.map((a) => a.fixes),
        name,
      ).toEqual([[['training.predictionType=v'], ['sampler.sigmaMax=80'], ['sampler.use=ddpm']]]);
    }
  });

  it("warns heun's trapezoid from σ > 10³ with a large first-step ratio, even with an exact denoiser, and names the bound or dpmpp-2m", () => {
    const off = adviseOracle(make('heun', { sigmaMax: false, sigmas: 'default' }));
    expect(off).toHaveLength(1);
    expect(off[0].message).toMatch(/^sampler heun takes its first second-order step from σ = 2\.03e\+4 /);
    expect(off[0].fixes).toEqual([['sampler.sigmaMax=80'], ['sampler.use=dpmpp-2m']]);
    // A huge bound is no bound.
    expect(adviseOracle(make('heun', { sigmaMax: 5000, sigmas: 'default' }))).toHaveLength(1);
    // Quiet at the defaults (σ_max = 80, Karras σ), on the default grid under the bound, and where σ_max is small.
    expect(adviseOracle(make('heun'))).toEqual([]);
    expect(adviseOracle(make('heun', { sigmas: 'default' }))).toEqual([]);
    expect(adviseOracle(make('heun', { sigmaMax: false, sigmas: 'default' }), linearSchedule(100))).toEqual([]);
    // DPM-2's midpoint from the same grid measured W1 0.022 (floor 0.043): no trapezoid rule there.
    expect(adviseOracle(make('dpm-2', { sigmaMax: false, sigmas: 'default' }))).toEqual([]);
  });

  it('warns a Karras grid that starts above 10³ (bound off) for every σ-space sampler and names the bound; quiet under the bound', () => {
    for (const name of sigmaSamplers) {
      const a = adviseOracle(make(name, { sigmaMax: false, sigmas: 'karras' }));
      expect(
        a.map((x) => x.fixes),
        name,
      ).toEqual([[['sampler.sigmaMax=80']]]);
      expect(a[0].message, name).toMatch(/ramps from σ = 2\.03e\+4 /);
      expect(adviseOracle(make(name, { sigmas: 'karras' })), name).toEqual([]);
      expect(adviseOracle(make(name, { sigmaMax: 500, sigmas: 'karras' })), name).toEqual([]);
    }
  });

  it('declares conditions for every DDPM-family sampler of the package, each reachable, and each plugin carries them', () => {
    const schedule = cosineSchedule(1000);
    const settings = [{}, { sigmas: 'default' }, { sigmas: 'karras' }, { sigmaMax: false, sigmas: 'default' }, { sigmaMax: false, sigmas: 'karras' }];
    for (const p of ddpmFamilyPlugins) {
      const rules = SAMPLER_ADVICE[p.name];
      expect(rules, p.name).toBeDefined();
      const held = new Set<AdviceRule>();
      for (const setting of settings) {
        if (!p.options.safeParse(setting).success) continue;
        const options = p.options.parse(setting) as Record<string, unknown>;
        const s = make(p.name, setting);
        const now = rules.filter((rule) => rule({ ...adviceCtx(s, schedule), sampler: s, options }) !== null);
        for (const rule of now) held.add(rule);
        // The plugin's advise() runs exactly the declared rules that hold.
        expect(advise(s, schedule).length, `${p.name} ${JSON.stringify(setting)}`).toBe(now.length);
      }
      // Under a trained ε-model on cosine T = 1000, every declared condition holds for some setting.
      expect(held.size, p.name).toBe(rules.length);
    }
  });
});
