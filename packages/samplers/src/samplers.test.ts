/**
 * The contract every sampler in this package keeps, checked with the exact denoiser for Gaussian data
 * N(μ, s²): the samples' mean and std at the default steps for every spacing (and Karras σ), NFE,
 * onStep sequence, no tensor leaks, seeded determinism (also concurrent), timesteps, and zero
 * terminal SNR without NaN.
 */
import { type AnyPluginDefinition, parseOptions, type Sampler } from '@diffusionlab/core';
import { checkSamplerDeterminism, checkSamplerDistribution, checkSamplerTimesteps, testPluginContext, activateBackendBeforeAll } from '@diffusionlab/testkit';
import { describe, expect, it } from 'vitest';
import { TIMESTEP_SPACINGS } from './common.js';
import { ddpmFamilyPlugins, linearSchedule, MU, S, traceRun, zeroSnrSchedule } from './fixtures.test-util.js';

activateBackendBeforeAll('cpu');

const T = 1000;
const schedule = linearSchedule(T);
const zsnr = zeroSnrSchedule(T);

async function make(plugin: AnyPluginDefinition, raw: Record<string, unknown>): Promise<Sampler> {
  return (await plugin.create(parseOptions(plugin.options, raw, 'sampler'), testPluginContext())) as Sampler;
}

const isSigma = (p: AnyPluginDefinition) => 'sigmas' in p.options.shape;

/**
 * Discretisation bias allowed at the default steps, on top of 4 standard errors. Measured against a
 * float64 scalar recursion of each method on this Gaussian (ᾱ_T ≈ 4·10⁻⁵ adds ≈ 0.005 to the mean):
 * DDIM/Euler(50) std −0.028 (the default is now 100 steps), Heun(25) ±0.02, LMS(50) ±0.004, DPM++(2M)(20) ≈ −0.02 (+0.03 with Karras σ, whose last
 * step is from σ_min), Euler ancestral(50) std −0.057 (first-order SDE), DDPM(T) ≈ 0.
 */
const SLACK: Record<string, { mean: number; std: number }> = {
  ddpm: { mean: 0.01, std: 0.005 },
  ddim: { mean: 0.01, std: 0.035 },
  euler: { mean: 0.01, std: 0.035 },
  'euler-ancestral': { mean: 0.01, std: 0.07 },
  heun: { mean: 0.01, std: 0.03 },
  lms: { mean: 0.01, std: 0.01 },
  'dpmpp-2m': { mean: 0.01, std: 0.04 },
  'dpmpp-2m-sde': { mean: 0.015, std: 0.045 },
  'dpm-2': { mean: 0.01, std: 0.03 },
  'dpmpp-2s-ancestral': { mean: 0.015, std: 0.045 },
  'dpmpp-3m-sde': { mean: 0.015, std: 0.045 },
  unipc: { mean: 0.01, std: 0.04 },
};

/** Option sets per sampler: every spacing, plus Karras σ for σ-space samplers. */
function optionSets(p: AnyPluginDefinition): Record<string, unknown>[] {
  // σ-space samplers state `sigmas: default` (Heun's default is Karras σ), so each spacing is really used.
  const sets: Record<string, unknown>[] = TIMESTEP_SPACINGS.map((s) => (isSigma(p) ? { timestepSpacing: s, sigmas: 'default' } : { timestepSpacing: s }));
  if (isSigma(p)) sets.push({ sigmas: 'karras' });
  return sets;
}

/** The single-step two-stage solvers: two model calls per step but the last (to σ = 0). */
const TWO_STAGE = new Set(['heun', 'dpm-2', 'dpmpp-2s-ancestral']);

/** NFE at `steps`: one call per step, the two-stage solvers two but on the last. */
const expectedNfe = (name: string, steps: number) => (TWO_STAGE.has(name) ? 2 * steps - 1 : steps);

describe.each(ddpmFamilyPlugins.map((p) => [p.name, p] as const))('%s', (name, plugin) => {
  it('is a sampler plugin with described options', () => {
    expect(plugin.kind).toBe('sampler');
    for (const [key, field] of Object.entries(plugin.options.shape as Record<string, { description?: string }>)) {
      expect(field.description, `option ${key}`).toBeTruthy();
    }
  });

  for (const raw of optionSets(plugin)) {
    it(`${JSON.stringify(raw)}: samples match N(μ, s²) at the default steps`, async () => {
      const sampler = await make(plugin, raw);
      const n = name === 'ddpm' ? 4000 : 8000;
      const r = await checkSamplerDistribution(
        sampler,
        { schedule, mu: MU, s: S, shape: [1] },
        {
          n,
          zScore: 4,
          meanSlack: SLACK[name].mean,
          stdSlack: SLACK[name].std,
          seed: 11,
        },
      );
      expect(r.tolStd).toBeLessThan(0.2 * S); // the check stays sharp: a 20 % error in s fails
    });
  }

  it('timesteps: decreasing, unique, inside [0, T), length = steps, for every spacing', async () => {
    for (const raw of optionSets(plugin)) {
      const sampler = await make(plugin, raw);
      for (const steps of [1, 2, 7, 50, 999, T]) {
        const ts = sampler.timesteps(schedule, steps);
        expect(ts).toHaveLength(steps);
        expect(new Set(ts).size).toBe(steps);
        checkSamplerTimesteps(sampler, schedule, steps);
      }
    }
  });

  it('counts NFE, reports every step from 0, lands on t = −1, ends at x̂₀, leaks nothing', async () => {
    const sampler = await make(plugin, {});
    const steps = name === 'ddpm' ? 20 : 12;
    const run = await traceRun(sampler, schedule, 16, 3, steps);
    expect(run.leaked).toBe(0);
    expect(run.shape).toEqual([16, 1]);
    expect(run.nfe).toBe(run.calls);
    expect(run.nfe).toBe(expectedNfe(name, steps));
    const ts = sampler.timesteps(schedule, steps);
    expect(run.events.map((e) => e.step)).toEqual(Array.from({ length: steps + 1 }, (_, i) => i));
    expect(run.events.map((e) => e.t)).toEqual([...ts, -1]);
    expect(run.events.every((e) => e.total === steps && e.shape.join() === '16,1')).toBe(true);
    // The model is asked at exactly the visited timesteps (the two-stage solvers also once between them).
    expect(run.calledAt.filter((_t, i) => !TWO_STAGE.has(name) || i % 2 === 0)).toEqual(ts);
    // The last step lands on σ = 0: the result is the last x̂₀ (no residual noise, even for SDE samplers).
    const last = run.lastX0 as Float32Array;
    for (let i = 0; i < 16; i++) expect(run.x[i]).toBeCloseTo(last[i], 5);
    expect(Array.from(run.events[steps].x)).toEqual(Array.from(run.x));
    // The state reported at step 0 is x_{t₁} ~ N(0, 1) as drawn (xₜ scale, whatever the sampler's state).
    expect(run.events[0].t).toBe(ts[0]);
  });

  it('default steps, and steps from the options', async () => {
    const sampler = await make(plugin, {});
    const want = {
      ddpm: 1000,
      ddim: 100,
      euler: 100,
      'euler-ancestral': 100,
      heun: 25,
      'dpm-2': 25,
      lms: 50,
      'dpmpp-2m': 20,
      'dpmpp-2m-sde': 25,
      'dpmpp-2s-ancestral': 25,
      'dpmpp-3m-sde': 25,
      unipc: 20,
    }[name];
    expect(sampler.defaultSteps).toBe(want);
    const custom = await make(plugin, { steps: 5 });
    expect(custom.defaultSteps).toBe(5);
    const run = await traceRun(custom, schedule, 4, 1);
    expect(run.events.at(-1)?.total).toBe(5);
  });

  it('seeded determinism, also for two concurrent calls on one object', async () => {
    const sampler = await make(plugin, { steps: 10 });
    await checkSamplerDeterminism(sampler, { schedule, mu: MU, s: S, shape: [2] });
  });

  it('zero terminal SNR (ᾱ_{T−1} = 0): finite samples with the right moments', async () => {
    expect(zsnr.alphasCumprod[T - 1]).toBe(0);
    const sets: Record<string, unknown>[] = [{}];
    if (isSigma(plugin)) sets.push({ sigmas: 'karras' }, { timestepSpacing: 'linspace', sigmas: 'default' });
    for (const raw of sets) {
      const sampler = await make(plugin, raw);
      const run = await traceRun(sampler, zsnr, 16, 2);
      expect(run.x.every(Number.isFinite), JSON.stringify(raw)).toBe(true);
      expect(run.events.every((e) => e.x.every(Number.isFinite))).toBe(true);
      expect(run.leaked).toBe(0);
      // Karras σ ramp from min(σ(T−2), sigmaMax) = 80 after the σ = ∞ step (σ(T−2) ≈ 1.5·10⁴ here), so they
      // are held to the same moments.
      await checkSamplerDistribution(
        sampler,
        { schedule: zsnr, mu: MU, s: S, shape: [1] },
        {
          n: name === 'ddpm' ? 2000 : 4000,
          zScore: 4,
          meanSlack: SLACK[name].mean,
          stdSlack: SLACK[name].std + 0.02,
          seed: 5,
        },
      );
    }
  });

  it('rejects bad steps, naming sampler.steps', async () => {
    for (const steps of [0, -3, 1.5]) {
      expect(() => parseOptions(plugin.options, { steps }, 'sampler')).toThrow(/sampler\.steps/);
    }
    const sampler = await make(plugin, {});
    const small = linearSchedule(10);
    await expect(
      sampler.sample({ denoise: () => ({}) as never, schedule: small, shape: [1], n: 1, steps: 11, rng: new (await import('@diffusionlab/core')).Rng(1) }),
    ).rejects.toThrow(/sampler\.steps: 11 sampling steps exceed the schedule's 10 training timesteps/);
    expect(() => sampler.timesteps(small, 11)).toThrow(/sampler\.steps: 11 sampling steps exceed the schedule's 10 training timesteps/);
    expect(() => sampler.timesteps(small, 2.5)).toThrow(/sampler\.steps/);
    // The check the runner calls before any work: a configured count above T is refused, as sample() would;
    // the sampler's default (unset) is left to sample(), and a count that fits passes.
    expect(() => sampler.check?.(small)).not.toThrow();
    const eleven = await make(plugin, { steps: 11 });
    expect(eleven.check).toBeTypeOf('function');
    expect(() => eleven.check?.(small)).toThrow(/sampler\.steps: 11 sampling steps exceed the schedule's 10 training timesteps/);
    expect(() => eleven.check?.(linearSchedule(11))).not.toThrow();
    expect(() => parseOptions(plugin.options, { bogus: 1 }, 'sampler')).toThrow(/sampler\.bogus/);
    expect(() => parseOptions(plugin.options, { timestepSpacing: 'even' }, 'sampler')).toThrow(/linspace, leading, trailing/);
  });
});
