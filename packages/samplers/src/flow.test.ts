/**
 * The flow-matching samplers against an exact reference. For Gaussian data N(μ, s²) the exact
 * velocity on the linear path is affine in x (testkit's gaussianFlowDenoiser: v = k(t)·(x − aμ) − μ
 * with a = 1 − t, k = (t − a s²)/(a² s² + t²)), so an Euler or Heun run is an affine map of its
 * starting noise, x_out = A·x₁ + B, with A and B computable in float64 by the same recursion on
 * scalars. Each sample is checked against that map for its own starting draw (replayed from the
 * seed), and the map itself against the ODE's exact end point (A → s, B → μ) as steps grow.
 */
import { parseOptions, Rng, type SamplerStepInfo } from '@diffusionlab/core';
import { activateBackendBeforeAll, gaussianFlowDenoiser } from '@diffusionlab/testkit';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { flowTimeGrid } from './flow-common.js';
import { createFlowDpmpp2mSde, FLOW_DPMPP_2M_SDE_DEFAULT_STEPS, flowDpmpp2mSdeSampler, flowDpmSdeCoefficients } from './flow-dpmpp-2m-sde.js';
import { createFlowEuler, FLOW_EULER_DEFAULT_STEPS, flowEulerSampler } from './flow-euler.js';
import { createFlowHeun, FLOW_HEUN_DEFAULT_STEPS, flowHeunSampler } from './flow-heun.js';
import { linearSchedule, MU, S } from './fixtures.test-util.js';

activateBackendBeforeAll('cpu');

/** The exact velocity's affine coefficients at flow time t: v(x) = k·x + c. */
function velocityCoefficients(t: number): { k: number; c: number } {
  const a = 1 - t;
  const k = (t - a * S * S) / (a * a * S * S + t * t);
  return { k, c: -k * a * MU - MU };
}

/** The affine map x₁ ↦ A·x₁ + B of an Euler or Heun run over `grid`, in float64. */
function affineRun(grid: readonly number[], heun: boolean): { A: number; B: number } {
  let A = 1;
  let B = 0;
  for (let i = 0; i + 1 < grid.length; i++) {
    const [t, next] = [grid[i], grid[i + 1]];
    const h = next - t;
    const v = velocityCoefficients(t);
    // Euler predictor: x + h·(k x + c).
    const eA = A + h * v.k * A;
    const eB = B + h * (v.k * B + v.c);
    if (!heun || next === 0) {
      [A, B] = [eA, eB];
      continue;
    }
    const w = velocityCoefficients(next);
    // Trapezoid: x + h/2·((k x + c) + (k' x̃ + c')).
    [A, B] = [A + (h / 2) * (v.k * A + w.k * eA), B + (h / 2) * (v.k * B + v.c + w.k * eB + w.c)];
  }
  return { A, B };
}

async function trace(which: 'euler' | 'heun', options: Record<string, unknown>, n: number, seed: number, steps?: number) {
  const sampler = which === 'euler' ? createFlowEuler(options) : createFlowHeun(options);
  const base = gaussianFlowDenoiser(MU, S);
  let calls = 0;
  const events: Omit<SamplerStepInfo, 'x'>[] = [];
  const before = tf.memory().numTensors;
  const out = await sampler.sample({
    denoise: (x, t) => {
      calls++;
      return base(x, t);
    },
    schedule: linearSchedule(100),
    shape: [1],
    n,
    steps,
    rng: new Rng(seed),
    onStep: (e) => events.push({ step: e.step, total: e.total, t: e.t }),
  });
  const x = out.x.dataSync().slice() as Float32Array;
  out.x.dispose();
  return { x, nfe: out.nfe, calls, events, leaked: tf.memory().numTensors - before, sampler };
}

describe('flowTimeGrid', () => {
  it('runs uniformly from 1 to 0, and the shift s·t/(1 + (s − 1)·t) keeps both ends and the order', () => {
    expect(flowTimeGrid(4, 1)).toEqual([1, 0.75, 0.5, 0.25, 0]);
    const shifted = flowTimeGrid(4, 3);
    expect(shifted[0]).toBe(1);
    expect(shifted[4]).toBe(0);
    shifted.forEach((t, i) => expect(t).toBeCloseTo((3 * (1 - i / 4)) / (1 + 2 * (1 - i / 4)), 12));
    for (let i = 1; i < shifted.length; i++) expect(shifted[i]).toBeLessThan(shifted[i - 1]);
  });
});

for (const [which, plugin, defaultSteps, nfeOf] of [
  ['euler', flowEulerSampler, FLOW_EULER_DEFAULT_STEPS, (s: number) => s],
  ['heun', flowHeunSampler, FLOW_HEUN_DEFAULT_STEPS, (s: number) => 2 * s - 1],
] as const) {
  describe(plugin.name, () => {
    for (const [label, options] of [
      ['uniform steps', {}],
      ['shift 3', { shift: 3 }],
    ] as const) {
      it(`${label}: every sample is the exact affine image A·x₁ + B of its own starting draw`, async () => {
        const n = 64;
        const steps = 7;
        const r = await trace(which, options, n, 11, steps);
        const { A, B } = affineRun(flowTimeGrid(steps, 'shift' in options ? options.shift : 1), which === 'heun');
        const x1 = new Rng(11).normalArray(n);
        for (let i = 0; i < n; i++) expect(Math.abs(r.x[i] - (A * x1[i] + B))).toBeLessThan(1e-5 * Math.max(1, Math.abs(A * x1[i] + B)));
      });
    }

    it(`converges to the ODE's end point N(μ, s²) with the method's order (${which === 'euler' ? 'first' : 'second'})`, () => {
      const err = (steps: number) => {
        const { A, B } = affineRun(flowTimeGrid(steps, 1), which === 'heun');
        return Math.abs(A - S) + Math.abs(B - MU);
      };
      const order = which === 'euler' ? 1 : 2;
      expect(err(400)).toBeLessThan(1e-2 / order ** 2);
      expect(Math.log2(err(100) / err(200))).toBeCloseTo(order, 0);
    });

    it('counts NFE, reports steps 0 … total from t = 1 to t = 0, leaks nothing; default and configured steps', async () => {
      const r = await trace(which, {}, 8, 1);
      expect(r.nfe).toBe(nfeOf(defaultSteps));
      expect(r.calls).toBe(r.nfe);
      expect(r.leaked).toBe(0);
      expect(r.events.map((e) => e.step)).toEqual(Array.from({ length: defaultSteps + 1 }, (_, i) => i));
      expect(r.events[0].t).toBe(1);
      expect(r.events[r.events.length - 1]).toEqual({ step: defaultSteps, total: defaultSteps, t: 0 });
      expect(r.sampler.defaultSteps).toBe(defaultSteps);
      expect(r.sampler.objectives).toEqual(['flow']);
      // Any step count: the flow time is continuous, so no bound by the schedule's T (100 here).
      const many = await trace(which, { steps: 150 }, 2, 1);
      expect(many.nfe).toBe(nfeOf(150));
      expect(r.sampler.timesteps(linearSchedule(100), 4)).toEqual([1, 0.75, 0.5, 0.25]);
    });

    it('rejects bad options naming the key; options round-trip through JSON', () => {
      expect(() => parseOptions(plugin.options, { steps: 0 }, 'sampler')).toThrow(/sampler\.steps/);
      expect(() => parseOptions(plugin.options, { shift: -1 }, 'sampler')).toThrow(/sampler\.shift/);
      expect(() => parseOptions(plugin.options, { sigmas: 'karras' }, 'sampler')).toThrow(/sampler\.sigmas: unknown key/);
      const a = parseOptions(plugin.options, { steps: 7, shift: 2 }, 'sampler');
      expect(parseOptions(plugin.options, JSON.parse(JSON.stringify(a)), 'sampler')).toStrictEqual(a);
    });
  });
}

/**
 * flow-dpmpp-2m-sde against an independent float64 replay. On Gaussian data x̂₀ is affine in x, so
 * every state is an affine function of the run's independent standard normals (x₁, then one noise
 * draw per stochastic step, from the same seed): tracked as a constant plus one coefficient per
 * source, a run gives each sample exactly (replayed from the seed) and the law of the output,
 * N(const, Σ coef²), exactly — which must approach the data N(μ, s²) as the steps grow.
 */
describe('flow-dpmpp-2m-sde', () => {
  /** x̂₀ = x − t·v with the exact velocity v = k·x + c: x̂₀ = (1 − t·k)·x − t·c. */
  const x0Of = (t: number) => {
    const { k, c } = velocityCoefficients(t);
    return { a: 1 - t * k, b: -t * c };
  };
  /** An affine form over the sources: value = c + Σ w[j]·source[j]. */
  type Form = { c: number; w: number[] };
  const lin = (terms: [number, Form][], constant = 0): Form => {
    const width = Math.max(...terms.map(([, f]) => f.w.length));
    const w = Array.from({ length: width }, (_, j) => terms.reduce((acc, [m, f]) => acc + m * (f.w[j] ?? 0), 0));
    return { c: terms.reduce((acc, [m, f]) => acc + m * f.c, constant), w };
  };
  /** The run as forms over its sources (x₁ is source 0; each noisy step adds one). */
  const formRun = (grid: readonly number[]): Form => {
    let x: Form = { c: 0, w: [1] };
    let previous: { x0: Form; h: number } | undefined;
    for (let i = 0; i + 1 < grid.length; i++) {
      const [t, s] = [grid[i], grid[i + 1]];
      const co = flowDpmSdeCoefficients(t, s);
      const { a, b } = x0Of(t);
      const x0 = lin([[a, x]], b);
      const prev = previous && Number.isFinite(previous.h) && Number.isFinite(co.h) ? previous : undefined;
      const d = prev
        ? lin([
            [1 + co.h / (2 * prev.h), x0],
            [-co.h / (2 * prev.h), prev.x0],
          ])
        : x0;
      const next = lin([
        [co.d, d],
        [co.x, x],
      ]);
      if (co.noise > 0) next.w.push(co.noise);
      previous = { x0, h: co.h };
      x = next;
    }
    return x;
  };

  it('the step reduces as stated at both ends and is the DPM-Solver++ SDE step between', () => {
    expect(flowDpmSdeCoefficients(0.3, 0)).toEqual({ x: 0, d: 1, noise: 0, h: Number.POSITIVE_INFINITY });
    expect(flowDpmSdeCoefficients(1, 0.9)).toMatchObject({ x: 0, d: 1 - 0.9, noise: 0.9 });
    // Between: the mean and noise coefficients keep x_s's marginal variance on the path for x̂₀ = x₀ exact
    // (σ_s² = x² σ_t² + noise², the data part α_s = x·α_t + d).
    const [t, s] = [0.7, 0.4];
    const c = flowDpmSdeCoefficients(t, s);
    expect(c.h).toBeCloseTo(Math.log(0.6 / 0.4) - Math.log(0.3 / 0.7), 12);
    expect(c.x * c.x * t * t + c.noise * c.noise).toBeCloseTo(s * s, 12);
    expect(c.x * (1 - t) + c.d).toBeCloseTo(1 - s, 12);
  });

  it('every sample is its float64 replay from the same seed; NFE = steps; leaks nothing', async () => {
    const n = 64;
    for (const [steps, shift] of [
      [7, 1],
      [9, 0.5],
    ]) {
      const sampler = createFlowDpmpp2mSde({ shift });
      const base = gaussianFlowDenoiser(MU, S);
      const before = tf.memory().numTensors;
      const out = await sampler.sample({ denoise: base, schedule: linearSchedule(100), shape: [1], n, steps, rng: new Rng(9) });
      const got = out.x.dataSync().slice();
      out.x.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(out.nfe).toBe(steps);
      const form = formRun(flowTimeGrid(steps, shift));
      // Sources in draw order: x₁ (n values), then n per noisy step.
      const rng = new Rng(9);
      const sources = Array.from({ length: form.w.length }, () => rng.normalArray(n));
      for (let j = 0; j < n; j++) {
        const want = form.c + form.w.reduce((acc, w, k) => acc + w * sources[k][j], 0);
        expect(Math.abs(got[j] - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
      }
    }
  });

  it('its law approaches the data N(μ, s²) as the steps grow, the spread at second order on uniform steps', () => {
    const err = (steps: number, shift = 1) => {
      const f = formRun(flowTimeGrid(steps, shift));
      const sd = Math.sqrt(f.w.reduce((acc, w) => acc + w * w, 0));
      return { mean: Math.abs(f.c - MU), sd: Math.abs(sd - S) };
    };
    const fine = err(1000);
    expect(fine.mean + fine.sd).toBeLessThan(2e-3);
    expect(err(400, 0.5).mean + err(400, 0.5).sd).toBeLessThan(5e-3);
    expect(err(10).mean + err(10).sd).toBeGreaterThan(fine.mean + fine.sd);
    // The mean is exact on Gaussian data (x̂₀ is the exact posterior mean); the spread converges at about second order (log₂ ratio 1.76 measured).
    expect(err(200).mean).toBeLessThan(1e-12);
    expect(Math.log2(err(100).sd / err(200).sd)).toBeGreaterThan(1.5);
  });

  it('declares flow, reports steps 0 … total, defaults to 20 steps; options named on error', async () => {
    const sampler = createFlowDpmpp2mSde({});
    expect(sampler.objectives).toEqual(['flow']);
    expect(sampler.defaultSteps).toBe(FLOW_DPMPP_2M_SDE_DEFAULT_STEPS);
    const events: number[] = [];
    const out = await sampler.sample({
      denoise: gaussianFlowDenoiser(MU, S),
      schedule: linearSchedule(100),
      shape: [1],
      n: 4,
      rng: new Rng(1),
      onStep: (e) => events.push(e.step),
    });
    out.x.dispose();
    expect(out.nfe).toBe(20);
    expect(events).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(() => parseOptions(flowDpmpp2mSdeSampler.options, { steps: 0 }, 'sampler')).toThrow(/sampler\.steps/);
    expect(() => parseOptions(flowDpmpp2mSdeSampler.options, { eta: 1 }, 'sampler')).toThrow(/sampler\.eta: unknown key/);
  });
});
