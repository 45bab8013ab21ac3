/** Shared pieces: spacings against Lin et al. 2024 Table 2, numpy rounding, x̂₀ processing, Karras σ, option errors. */
import { ConfigError, parseOptions, sigmaOf } from '@diffusionlab/core';
import { activateBackendBeforeAll } from '@diffusionlab/testkit';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { dynamicThreshold, processX0, roundHalfEven, spacedTimesteps, validateSteps } from './common.js';
import { ddimSampler } from './ddim.js';
import { ddpmFamilyPlugins, linearSchedule } from './fixtures.test-util.js';
import { karrasSigmas, sigmaPlan } from './sigmas.js';

activateBackendBeforeAll('cpu');

describe('spacedTimesteps', () => {
  it('matches Lin et al. 2024 Table 2 (T = 1000, 10 steps)', () => {
    expect(spacedTimesteps(1000, 10, 'linspace')).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    expect(spacedTimesteps(1000, 10, 'leading')).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    expect(spacedTimesteps(1000, 10, 'trailing')).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
  });
  it('rounds ties to even like numpy (trailing, T/steps = 62.5)', () => {
    // np.round(np.arange(1000, 0, -62.5)) - 1
    expect(spacedTimesteps(1000, 16, 'trailing')).toEqual([999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61]);
    expect([0.5, 1.5, 2.5, -0.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, 2, 3]);
  });
  it('visits every timestep when steps = T, and fractional linspace is unrounded', () => {
    const all = Array.from({ length: 100 }, (_, i) => 99 - i);
    for (const s of ['linspace', 'leading', 'trailing'] as const) expect(spacedTimesteps(100, 100, s)).toEqual(all);
    expect(spacedTimesteps(1000, 4, 'linspace', true)).toEqual([999, 666, 333, 0]);
    expect(spacedTimesteps(1000, 3, 'linspace', true)).toEqual([999, 499.5, 0]);
    expect(spacedTimesteps(1000, 1, 'linspace')).toEqual([999]);
  });
});

describe('validateSteps', () => {
  const s = linearSchedule(10);
  it('accepts 1 … T and names sampler.steps otherwise', () => {
    expect(validateSteps(10, s)).toBe(10);
    for (const bad of [0, -1, 2.5, 11, Number.NaN]) {
      try {
        validateSteps(bad, s);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).issues[0].path).toBe('sampler.steps');
      }
    }
  });
});

describe('x̂₀ processing', () => {
  it('dynamic thresholding: per-sample quantile of |x̂₀| (linear interpolation), clamped to [1, maxValue]', () => {
    const x = tf.tensor([0.5, -3, 2, 4, 0.1, 0.2, -0.1, 0.2], [2, 4]);
    // Row 1: |x| sorted 0.5, 2, 3, 4; the 0.5-quantile at position 1.5 is 2.5.
    const a = dynamicThreshold(x, 0.5, 3);
    expect(Array.from(a.dataSync())).toEqual(Array.from(new Float32Array([0.2, -1, 0.8, 1, 0.1, 0.2, -0.1, 0.2])));
    const b = dynamicThreshold(x, 0.5, 2); // s capped at 2
    expect(Array.from(b.dataSync())).toEqual(Array.from(new Float32Array([0.25, -1, 1, 1, 0.1, 0.2, -0.1, 0.2])));
    tf.dispose([x, a, b]);
  });
  it('clipSample clips to [−c, c]; neither option is the identity', () => {
    const x = tf.tensor([-2, -0.3, 0.7, 5], [4, 1]);
    const c = processX0(x, { clipSample: 0.5, thresholding: false });
    expect(Array.from(c.dataSync())).toEqual(Array.from(new Float32Array([-0.5, -0.3, 0.5, 0.5])));
    expect(processX0(x, { clipSample: false, thresholding: false })).toBe(x);
    tf.dispose([x, c]);
  });
  it('clipSample and thresholding together are rejected at sampler.thresholding', () => {
    const opts = parseOptions(ddimSampler.options, { clipSample: 1, thresholding: {} }, 'sampler');
    expect(() => ddimSampler.create(opts, {} as never)).toThrow(/sampler\.thresholding/);
  });
});

describe('Karras σ (eq. 5, ρ = 7)', () => {
  it('matches hand values: σ_min = 1, σ_max = 2⁷ gives (1.5)⁷ in the middle', () => {
    expect(karrasSigmas(3, 1, 128)).toEqual([128, 1.5 ** 7, 1]);
    expect(karrasSigmas(1, 1, 128)).toEqual([128]);
  });
  it('runs from σ(T−1) to σ(0), then 0, with σ recomputed from each timestep', () => {
    const s = linearSchedule(1000);
    // Unbounded (the default σ_max bound of 80 is below this schedule's σ(T−1) = 157; sigma-max.test.ts covers it).
    const plan = sigmaPlan(s, 10, { sigmas: 'karras', timestepSpacing: 'trailing', sigmaMax: false });
    expect(plan.timesteps[0]).toBe(999);
    expect(plan.timesteps[9]).toBe(0);
    expect(plan.sigmas[0]).toBeCloseTo(sigmaOf(s.alphasCumprod[999]), 10);
    expect(plan.sigmas[9]).toBeCloseTo(sigmaOf(s.alphasCumprod[0]), 12);
    expect(plan.sigmas[10]).toBe(0);
    const want = karrasSigmas(10, sigmaOf(s.alphasCumprod[0]), sigmaOf(s.alphasCumprod[999]));
    plan.sigmas.slice(0, 10).forEach((v, i) => expect(v / want[i]).toBeCloseTo(1, 9));
  });
});

describe('option errors', () => {
  it('eta outside [0, 1] names sampler.eta', () => {
    for (const p of ddpmFamilyPlugins.filter((q) => 'eta' in q.options.shape)) {
      for (const eta of [-0.1, 1.5]) expect(() => parseOptions(p.options, { eta }, 'sampler')).toThrow(/sampler\.eta: eta must lie in \[0, 1\]/);
    }
  });
  it('non-σ samplers reject the sigmas option; clipSample must be positive or false', () => {
    expect(() => parseOptions(ddimSampler.options, { sigmas: 'karras' }, 'sampler')).toThrow(/sampler\.sigmas: unknown key/);
    expect(() => parseOptions(ddimSampler.options, { clipSample: 0 }, 'sampler')).toThrow(/sampler\.clipSample/);
    expect(() => parseOptions(ddimSampler.options, { clipSample: true }, 'sampler')).toThrow(/sampler\.clipSample/);
  });
  it('options round-trip through JSON', () => {
    for (const p of ddpmFamilyPlugins) {
      const a = parseOptions(p.options, { steps: 7, thresholding: { ratio: 0.9 } }, 'sampler');
      expect(parseOptions(p.options, JSON.parse(JSON.stringify(a)), 'sampler')).toStrictEqual(a);
    }
  });
});
