/**
 * The full conformance matrix of issue 3: every schedule (and zero-terminal-SNR variants) × every
 * registered sampler × every prediction type, sampled with the `oracle` denoiser (the exact posterior
 * mean, so no training and no approximation error) on the reference's 1-D mixture, half N(−2, 0.5²)
 * and half N(2, 0.5²), at each sampler's documented default step count. Each cell must reach W1
 * (`@diffusionlab/metrics`' w1) below {@link W1_TOLERANCE} against a fresh reference draw.
 *
 * Samplers are put in the cells of the objectives they declare (`Sampler.objectives`, never their
 * names): the DDPM family in the schedule × prediction-type cells above, flow samplers in the flow
 * cells, where the oracle gives the exact velocity of the linear path (`training.objective: flow`).
 *
 * It lives in the runner because the runner is the one package that depends on every plugin package
 * (testkit cannot: schedules and samplers take testkit as a dev dependency). Plugins come from the
 * runner's own registry, so a newly registered sampler or schedule joins the matrix by itself.
 */
import {
  type AnyPluginDefinition,
  type Dataset,
  type Denoiser,
  generateSamples,
  type Metric,
  type NoiseSchedule,
  PREDICTION_TYPES,
  parseOptions,
  Rng,
  type Sampler,
  samplerObjectives,
} from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from './backend.js';
import { builtinRegistry } from './plugins.js';

/**
 * Samples per cell. 2000 keeps the whole matrix (≈ 19,000 oracle calls, DDPM's 1000 steps being most
 * of them) at a few seconds of sampling per schedule on the cpu backend.
 */
const N = 2000;

/**
 * The W1 every cell must stay below, at N = 2000. Measured on this mixture with `wasserstein1d` over
 * 1000 independent pairs of draws of size 2000 (seeds 1000… and 5000…):
 * - noise floor as the runner reports it (two stratified reference draws, exactly half per mode):
 *   mean 0.029, p99 0.050, max 0.083;
 * - what a perfect sampler gets: its output is an i.i.d. draw (each point's mode is random), and the
 *   binomial imbalance between the modes, ±0.5/√N = ±0.011 of the mass, moves ≈ 4·0.011 in W1
 *   (the modes are 4 apart). i.i.d. draw against a stratified reference: mean 0.053, p99 0.129,
 *   max 0.182 — this, not the stratified floor, is the noise a sampler's W1 carries;
 * - discretisation bias at the default step counts, W1 of 20,000 samples against the exact mixture
 *   CDF (epsilon): at most 0.045 over the passing cells. Deterministic solvers 0.009–0.043 (ddim and
 *   euler at 50 steps on `sigmoid` the largest); stochastic ones 0.011–0.044, which includes their
 *   own draw's mode imbalance (euler-ancestral at 50 steps on `linear` the largest).
 * 0.25 ≈ the i.i.d. p99.9 (≈ 0.18: a 3.3 σ imbalance, 4·3.3·0.011 + 0.03) plus that bias plus a
 * margin of 0.025. The passing cells measure 0.031–0.082 here. A broken conversion lands far above
 * it: a sign swapped in core's v → x̂₀ conversion gave W1 ≈ 1.9–2.0 in every v cell but DDPM's
 * (whose exact T-step update reads ε̂ only), and one swapped in sample → ε̂ gave 2.0 (ddpm) to 10⁸
 * (ddim). Subtler errors need a larger N than a unit test affords.
 */
const W1_TOLERANCE = 0.25;

/** The schedules of the matrix, at their defaults (T = 1000); the last ends at ᾱ_T = 0 (Lin et al. 2023). */
const SCHEDULES: Record<string, unknown>[] = [{ use: 'linear' }, { use: 'scaled-linear' }, { use: 'cosine' }, { use: 'sigmoid' }, { use: 'cosine', rescaleZeroTerminalSnr: true }];

const PAIR_COMPONENTS = [
  { mean: -2, std: 0.5 },
  { mean: 2, std: 0.5 },
];

const registry = builtinRegistry();
const ctx = { seed: 0, print: () => {}, interactive: false };

async function create<T>(kind: 'dataset' | 'schedule' | 'denoiser' | 'sampler' | 'metric', slot: Record<string, unknown>): Promise<T> {
  const { use, ...options } = slot as { use: string };
  const def: AnyPluginDefinition = registry.get(kind, use);
  return (await def.create(parseOptions(def.options, options, kind), ctx)) as T;
}

/** True when the sampler's options take `sigmas: karras` (read from its schema, not its name). */
function acceptsKarras(name: string): boolean {
  return registry.get('sampler', name).options.safeParse({ sigmas: 'karras' }).success;
}

async function w1Of(samples: Float32Array): Promise<number> {
  const r = await w1.compute(samples, reference, { shape: dataset.shape, info: dataset.info, rng: new Rng(0) });
  return typeof r === 'number' ? r : r.value;
}

const label = (s: Record<string, unknown>) => (s.rescaleZeroTerminalSnr ? `${s.use}+zero-snr` : String(s.use));

let dataset: Dataset;
let reference: Float32Array;
let w1: Metric;

beforeAll(async () => {
  await setupBackend('cpu'); // as the runner does it (and without tfjs's console advert)
  // The reference's data exactly as the dataset plugin produces it (gaussian-mixture does not standardise).
  dataset = await create<Dataset>('dataset', { use: 'gaussian-mixture', size: 1000, components: PAIR_COMPONENTS });
  reference = await dataset.reference(N, new Rng(20230).fork('reference'));
  w1 = await create<Metric>('metric', { use: 'w1' });
});

/** Each registered sampler's declared objectives, from an instance made with its defaults. */
const objectivesOf = new Map(await Promise.all(registry.names('sampler').map(async (name) => [name, samplerObjectives(await create<Sampler>('sampler', { use: name }))] as const)));

describe('conformance matrix: schedule × sampler × prediction type, oracle denoiser', () => {
  const samplerNames = registry.names('sampler').filter((name) => objectivesOf.get(name)?.includes('ddpm'));
  const flowSamplerNames = registry.names('sampler').filter((name) => objectivesOf.get(name)?.includes('flow'));

  it('covers every registered schedule and sampler', () => {
    expect(new Set(SCHEDULES.map((s) => s.use))).toEqual(new Set(registry.names('schedule')));
    expect(SCHEDULES.some((s) => s.rescaleZeroTerminalSnr === true)).toBe(true);
    expect(samplerNames.length).toBeGreaterThanOrEqual(6);
    expect(flowSamplerNames.length).toBeGreaterThanOrEqual(2);
    expect(new Set([...samplerNames, ...flowSamplerNames])).toEqual(new Set(registry.names('sampler')));
  });

  // Flow matching: the schedule only sets T (the range of the network's time input), so one schedule.
  describe.each(flowSamplerNames)('training.objective flow × %s', (samplerName) => {
    it(`reaches W1 < ${W1_TOLERANCE} at its default steps`, async () => {
      const schedule = await create<NoiseSchedule>('schedule', { use: 'cosine' });
      const sampler = await create<Sampler>('sampler', { use: samplerName });
      const oracle = await create<Denoiser>('denoiser', { use: 'oracle' });
      const model = await oracle.build({ dataShape: dataset.shape, schedule, predictionType: 'epsilon', objective: 'flow', rng: new Rng(0), dataset });
      const before = tf.memory().numTensors;
      const out = await generateSamples({ model, sampler, schedule, predictionType: 'epsilon', objective: 'flow', shape: dataset.shape, n: N, rng: new Rng(7) });
      expect(tf.memory().numTensors, 'tensors leaked by one sampling call').toBe(before);
      expect(out.steps).toBe(sampler.defaultSteps);
      expect(out.samples.every(Number.isFinite)).toBe(true);
      const value = await w1Of(out.samples);
      expect(value, `flow × ${samplerName}: W1 at ${out.steps} steps`).toBeLessThan(W1_TOLERANCE);
    });
  });

  describe.each(SCHEDULES.map((s) => [label(s), s] as const))('%s', (scheduleLabel, scheduleSlot) => {
    describe.each(samplerNames)('%s', (samplerName) => {
      it.each([...PREDICTION_TYPES])(`%s reaches W1 < ${W1_TOLERANCE}`, async (predictionType) => {
        const schedule = await create<NoiseSchedule>('schedule', scheduleSlot);
        const sampler = await create<Sampler>('sampler', { use: samplerName });
        const oracle = await create<Denoiser>('denoiser', { use: 'oracle' });
        const model = await oracle.build({ dataShape: dataset.shape, schedule, predictionType, rng: new Rng(0), dataset });
        const before = tf.memory().numTensors;
        const out = await generateSamples({ model, sampler, schedule, predictionType, shape: dataset.shape, n: N, rng: new Rng(7) });
        expect(tf.memory().numTensors, 'tensors leaked by one sampling call').toBe(before);
        // The documented default: DDPM visits every timestep, the others their own default.
        expect(out.steps).toBe(sampler.defaultStepsFor?.(schedule) ?? sampler.defaultSteps);
        expect(out.samples.every(Number.isFinite)).toBe(true);
        const value = await w1Of(out.samples);
        expect(value, `${scheduleLabel} × ${samplerName} × ${predictionType}: W1 at ${out.steps} steps`).toBeLessThan(W1_TOLERANCE);
      });
    });

    // Karras σ (Karras et al. 2022 eq. 5) for every sampler that offers them, ε-prediction: with the
    // default σ_max bound they start from min(σ(T−1), 80), not from cosine's σ(T−1) = 20,291, where
    // dpmpp-2m at 20 steps spent most steps at σ in the thousands (W1 0.37 at n = 10,000).
    describe.each(samplerNames.filter((name) => acceptsKarras(name)))('%s, sigmas: karras', (samplerName) => {
      it(`epsilon reaches W1 < ${W1_TOLERANCE}`, async () => {
        const schedule = await create<NoiseSchedule>('schedule', scheduleSlot);
        const sampler = await create<Sampler>('sampler', { use: samplerName, sigmas: 'karras' });
        const oracle = await create<Denoiser>('denoiser', { use: 'oracle' });
        const model = await oracle.build({ dataShape: dataset.shape, schedule, predictionType: 'epsilon', rng: new Rng(0), dataset });
        const out = await generateSamples({ model, sampler, schedule, predictionType: 'epsilon', shape: dataset.shape, n: N, rng: new Rng(7) });
        expect(out.samples.every(Number.isFinite)).toBe(true);
        const value = await w1Of(out.samples);
        expect(value, `${scheduleLabel} × ${samplerName} (karras): W1 at ${out.steps} steps`).toBeLessThan(W1_TOLERANCE);
      });
    });
  });
});
