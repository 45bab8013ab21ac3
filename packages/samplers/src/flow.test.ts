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
