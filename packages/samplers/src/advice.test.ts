import { type AnyPluginDefinition, type PluginContext, type Sampler, scheduleFromBetas } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { SAMPLER_ADVICE } from './advice.js';
import { linearSchedule } from './fixtures.test-util.js';
import { plugins } from './index.js';

/** Nichol & Dhariwal's cosine ᾱ with β clipped at 0.999 (σ_max ≈ 2·10⁴ at T = 1000), built here to keep schedules out of this package. */
function cosineSchedule(T: number) {
  const f = (t: number) => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  return scheduleFromBetas('cosine', Float64Array.from({ length: T }, (_, t) => Math.min(1 - f(t + 1) / f(t), 0.999)));
}

const ctx: PluginContext = { seed: 0, print: () => {}, interactive: false };
const make = (name: string, options: Record<string, unknown> = {}): Sampler => {
  const def = plugins.find((p) => p.name === name) as AnyPluginDefinition;
  return def.create(def.options.parse(options), ctx) as Sampler;
};
const advise = (s: Sampler, schedule = cosineSchedule(1000), predictionType: 'epsilon' | 'v' = 'epsilon', trainable = true) =>
  s.advise?.({ schedule, predictionType, steps: s.defaultStepsFor?.(schedule) ?? s.defaultSteps, trainable }) ?? [];

describe('sampler advice', () => {
  it('warns a trained ε-model at a huge σ for samplers that turn ε̂ into x̂₀ there, not for ddpm, v-prediction, the oracle or a small σ_max', () => {
    expect(advise(make('ddim')).map((a) => a.message)).toEqual([expect.stringMatching(/sampler ddim .* σ = 2\.0\de\+4/)]);
    expect(advise(make('ddpm'))).toEqual([]);
    expect(advise(make('ddim'), cosineSchedule(1000), 'v')).toEqual([]);
    expect(advise(make('ddim'), cosineSchedule(1000), 'epsilon', false)).toEqual([]);
    expect(advise(make('ddim'), linearSchedule(100))).toEqual([]);
    // leading spacing starts below T − 1, where σ is moderate: nothing to warn about.
    expect(advise(make('ddim', { timestepSpacing: 'leading' }))).toEqual([]);
  });

  it('warns heun from a huge σ_max even with an exact denoiser, and names leading spacing or dpmpp-2m', () => {
    const a = advise(make('heun'), cosineSchedule(1000), 'epsilon', false);
    expect(a).toHaveLength(1);
    expect(a[0].fixes).toEqual([['sampler.timestepSpacing=leading'], ['sampler.use=dpmpp-2m']]);
    expect(advise(make('heun', { timestepSpacing: 'leading' }), cosineSchedule(1000), 'epsilon', false)).toEqual([]);
    expect(advise(make('heun'), linearSchedule(100), 'epsilon', false)).toEqual([]);
    expect(advise(make('heun', { sigmas: 'karras' }), cosineSchedule(1000), 'epsilon', false)[0].fixes[0]).toEqual(['sampler.sigmas=default', 'sampler.timestepSpacing=leading']);
  });

  it('warns a Karras grid from a huge σ_max and names the default grid', () => {
    for (const name of ['euler', 'euler-ancestral', 'lms', 'dpmpp-2m', 'dpmpp-2m-sde']) {
      const a = advise(make(name, { sigmas: 'karras' }), cosineSchedule(1000), 'epsilon', false);
      expect(a.map((x) => x.fixes)).toEqual([[['sampler.sigmas=default']]]);
      expect(advise(make(name), cosineSchedule(1000), 'epsilon', false)).toEqual([]);
    }
  });

  it('declares conditions for every sampler of the package, and each plugin carries them', () => {
    for (const p of plugins) {
      expect(SAMPLER_ADVICE[p.name], p.name).toBeDefined();
      const s = make(p.name, p.options.safeParse({ sigmas: 'karras' }).success ? { sigmas: 'karras' } : {});
      // Under a trained ε-model on cosine T = 1000 with Karras σs, every declared condition holds.
      expect(advise(s).length, p.name).toBe(SAMPLER_ADVICE[p.name].length);
    }
  });
});
