/**
 * Conformance checks for `sampler` plugins against an exact denoiser for Gaussian data
 * N(μ, s²) (on the DDPM forward process, or on the flow-matching path for flow samplers): output shape, finiteness, NFE accounting, onStep contract, tensor hygiene, seeded
 * determinism (also under concurrent calls) and the sample distribution. Plain check functions
 * throw {@link ConformanceError}; {@link samplerConformance} wraps them in a vitest suite.
 */
import {
  type DenoiseFn,
  type NoiseSchedule,
  type PluginDefinition,
  parseOptions,
  Rng,
  type Sampler,
  type SampleOutput,
  samplerObjectives,
  scheduleFromBetas,
} from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConformanceError, meanStd } from './assertions.js';
import { activateBackendBeforeAll } from './backend.js';
import { gaussianDenoiser, gaussianFlowDenoiser } from './gaussian.js';
import { testPluginContext } from './plugin-options.js';

// biome-ignore lint/suspicious/noExplicitAny: a sampler plugin with any option schema.
type SamplerPlugin = PluginDefinition<'sampler', any>;

/**
 * The schedule the suite samples with unless told otherwise: DDPM's linear β from 10⁻⁴ to 0.02 over
 * T = 1000 (Ho et al. 2020, §4). ᾱ_T ≈ 4·10⁻⁵, so starting from N(0, 1) is (nearly) right and the
 * statistical check measures the sampler, not the schedule.
 */
export function conformanceSchedule(T = 1000): NoiseSchedule {
  const betas = new Float64Array(T);
  for (let t = 0; t < T; t++) betas[t] = T === 1 ? 1e-4 : 1e-4 + (t * (0.02 - 1e-4)) / (T - 1);
  return scheduleFromBetas('linear', betas, { timesteps: T, betaStart: 1e-4, betaEnd: 0.02 });
}

/** Settings for {@link samplerConformance}; every field is optional. */
export interface SamplerConformanceOptions {
  /** Sampler option objects to test (each parsed with the plugin's schema); default `[{}]`. */
  optionsList?: Record<string, unknown>[];
  /** Schedule to sample with; default {@link conformanceSchedule}(). */
  schedule?: NoiseSchedule;
  /** Sampler steps; default the sampler's `defaultSteps`. */
  steps?: number;
  /** Data mean μ (default 0.5) and std s (default 0.7) of the Gaussian the exact denoiser models. */
  mu?: number;
  s?: number;
  /** Shape of one sample (default [2]: two independent coordinates, pooled for the statistics). */
  shape?: number[];
  /** Samples for the distribution check (default 2000); the other checks use 16. */
  n?: number;
  /** Standard errors allowed in the distribution check (default 5). */
  zScore?: number;
  /** Discretisation slack added to the mean tolerance (default 0): the bias the sampler may have at `steps`. */
  meanSlack?: number;
  /** Discretisation slack added to the std tolerance (default 0). */
  stdSlack?: number;
  /** Seed of the distribution check (default 1234). */
  seed?: number;
  /** Activate the tfjs cpu backend in a beforeAll (default true). */
  useCpuBackend?: boolean;
}

/** One sampler call on the exact denoiser, with the samples downloaded and the tensor disposed. */
export interface SamplerRun {
  samples: Float32Array;
  shape: number[];
  nfe: number;
  /** Denoiser calls actually made. */
  calls: number;
  /** `onStep` calls as (step, total, x shape). */
  stepLog: { step: number; total: number; t: number; shape: number[] }[];
}

/** What a check needs to know about the setting. */
export interface SamplerCheckSetting {
  schedule: NoiseSchedule;
  mu: number;
  s: number;
  shape: number[];
  steps?: number;
}

/**
 * Runs `sampler` once with the exact Gaussian denoiser and a fresh `Rng(seed)`, counting denoiser
 * calls: the DDPM one, or the flow-matching one for a sampler that integrates only flow models
 * (`Sampler.objectives`).
 */
export async function runSampler(sampler: Sampler, setting: SamplerCheckSetting, n: number, seed: number): Promise<SamplerRun> {
  const ddpm = samplerObjectives(sampler).includes('ddpm');
  const base: DenoiseFn = ddpm ? gaussianDenoiser(setting.mu, setting.s, setting.schedule) : gaussianFlowDenoiser(setting.mu, setting.s);
  let calls = 0;
  const denoise: DenoiseFn = (x, t) => {
    calls++;
    return base(x, t);
  };
  const stepLog: SamplerRun['stepLog'] = [];
  const out: SampleOutput = await sampler.sample({
    denoise,
    schedule: setting.schedule,
    shape: setting.shape,
    n,
    steps: setting.steps,
    rng: new Rng(seed),
    onStep: (info) => stepLog.push({ step: info.step, total: info.total, t: info.t, shape: [...info.x.shape] }),
  });
  const shape = [...out.x.shape];
  const samples = (await out.x.data()) as Float32Array;
  out.x.dispose();
  return { samples: Float32Array.from(samples), shape, nfe: out.nfe, calls, stepLog };
}

const fail = (sampler: Sampler, msg: string): never => {
  throw new ConformanceError(`sampler ${JSON.stringify(sampler.name)}: ${msg}`);
};

/**
 * Checks one run's contract: output shape [n, …shape], float32 finite values, nfe > 0 and equal to
 * the denoiser calls made, onStep steps 1, 2, … ending at `total`, and no leaked tensors
 * (tf.memory().numTensors unchanged once the caller disposes the output).
 */
export async function checkSamplerRun(sampler: Sampler, setting: SamplerCheckSetting, n = 16, seed = 1): Promise<SamplerRun> {
  const before = tf.memory().numTensors;
  const run = await runSampler(sampler, setting, n, seed);
  const after = tf.memory().numTensors;
  if (after !== before) fail(sampler, `leaked ${after - before} tensor(s) in one sample() call (numTensors ${before} → ${after})`);
  const want = [n, ...setting.shape];
  if (run.shape.join(',') !== want.join(',')) fail(sampler, `output shape [${run.shape}] ≠ [${want}]`);
  for (let i = 0; i < run.samples.length; i++) {
    if (!Number.isFinite(run.samples[i])) fail(sampler, `sample value ${i} is ${run.samples[i]}`);
  }
  if (!(run.nfe > 0)) fail(sampler, `nfe must be > 0, got ${run.nfe}`);
  if (run.nfe !== run.calls) fail(sampler, `reports nfe = ${run.nfe} but called the denoiser ${run.calls} times`);
  if (run.stepLog.length === 0) fail(sampler, 'never called onStep');
  // An optional step-0 call reports the initial state; after it, steps are 1-based and consecutive.
  const offset = run.stepLog[0].step === 0 ? 1 : 0;
  run.stepLog.forEach((e, i) => {
    if (e.step !== i + 1 - offset) fail(sampler, `onStep call ${i + 1} reported step ${e.step} (after an optional step 0, steps are 1-based and consecutive)`);
    if (e.shape.join(',') !== want.join(',')) fail(sampler, `onStep x has shape [${e.shape}], expected [${want}]`);
  });
  const last = run.stepLog[run.stepLog.length - 1];
  if (last.step !== last.total) fail(sampler, `the last onStep reported step ${last.step} of total ${last.total}`);
  return run;
}

/** Checks `timesteps(schedule, steps)` is non-empty, strictly decreasing and inside [0, T − 1]. */
export function checkSamplerTimesteps(sampler: Sampler, schedule: NoiseSchedule, steps: number): void {
  const ts = sampler.timesteps(schedule, steps);
  const T = schedule.numTrainTimesteps;
  if (!Array.isArray(ts) || ts.length === 0) fail(sampler, `timesteps(schedule, ${steps}) returned no timesteps`);
  ts.forEach((t, i) => {
    if (!(t >= 0 && t <= T - 1)) fail(sampler, `timestep ${t} (index ${i}) is outside [0, ${T - 1}]`);
    if (i > 0 && !(t < ts[i - 1])) fail(sampler, `timesteps are not strictly decreasing at index ${i}: ${ts[i - 1]}, ${t}`);
  });
}

/**
 * Checks what a sampler declares to the runner: its `check` accepts a setting it samples with (the
 * runner calls it before any work, so a wrong refusal stops every run), and a `describeLoop`
 * declaration visits exactly its own timesteps (accelerators replace the whole loop on it).
 */
export function checkSamplerDeclarations(sampler: Sampler, schedule: NoiseSchedule, steps?: number): void {
  try {
    sampler.check?.(schedule);
  } catch (e) {
    fail(sampler, `check(schedule) refused a setting it samples with: ${(e as Error).message}`);
  }
  const declared = sampler.describeLoop?.(schedule, steps) ?? null;
  if (declared === null) return;
  const own = sampler.timesteps(schedule, steps ?? sampler.defaultStepsFor?.(schedule) ?? sampler.defaultSteps);
  const listed = [...declared.timesteps];
  if (listed.length !== own.length || listed.some((t, i) => t !== own[i])) {
    fail(sampler, `describeLoop declares timesteps [${listed.slice(0, 5).join(', ')}…] (${listed.length}) but timesteps() visits [${own.slice(0, 5).join(', ')}…] (${own.length})`);
  }
}

function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/**
 * Checks seeded determinism: the same seed twice gives identical arrays, a different seed gives
 * different ones (the sampler draws from `rng`, not Math.random), and two concurrent `sample()`
 * calls on the same object equal the sequential results (no per-call state on the object).
 */
export async function checkSamplerDeterminism(sampler: Sampler, setting: SamplerCheckSetting, n = 16): Promise<void> {
  const a = await runSampler(sampler, setting, n, 7);
  const b = await runSampler(sampler, setting, n, 7);
  const d = firstDifference(a.samples, b.samples);
  if (d >= 0) fail(sampler, `same seed, different samples (first at index ${d}: ${a.samples[d]} vs ${b.samples[d]})`);
  const c = await runSampler(sampler, setting, n, 8);
  if (firstDifference(a.samples, c.samples) < 0) fail(sampler, 'seeds 7 and 8 give identical samples; draw all noise from params.rng');
  let pair: [SamplerRun, SamplerRun];
  try {
    pair = await Promise.all([runSampler(sampler, setting, n, 7), runSampler(sampler, setting, n, 8)]);
  } catch (cause) {
    return fail(sampler, `two concurrent sample() calls failed (${String(cause)}); keep state local to sample()`);
  }
  const [p, q] = pair;
  if (firstDifference(p.samples, a.samples) >= 0 || firstDifference(q.samples, c.samples) >= 0) {
    fail(sampler, 'two concurrent sample() calls differ from the same calls made one after the other; keep state local to sample()');
  }
}

/** Tolerances of the distribution check for N values: z·s/√N + meanSlack and z·s/√(2N) + stdSlack. */
export function distributionTolerance(s: number, count: number, zScore = 5, meanSlack = 0, stdSlack = 0): { mean: number; std: number } {
  return { mean: (zScore * s) / Math.sqrt(count) + meanSlack, std: (zScore * s) / Math.sqrt(2 * count) + stdSlack };
}

/**
 * Checks the samples' mean and std match N(μ, s²): |m̂ − μ| ≤ z·s/√N + meanSlack and
 * |ŝ − s| ≤ z·s/√(2N) + stdSlack, with N = n·prod(shape) pooled values (the standard errors of a
 * Gaussian sample's mean and std). Returns what it measured.
 */
export async function checkSamplerDistribution(
  sampler: Sampler,
  setting: SamplerCheckSetting,
  opts: { n?: number; zScore?: number; meanSlack?: number; stdSlack?: number; seed?: number } = {},
): Promise<{ mean: number; std: number; tolMean: number; tolStd: number }> {
  const run = await runSampler(sampler, setting, opts.n ?? 2000, opts.seed ?? 1234);
  const { mean, std } = meanStd(run.samples);
  const tol = distributionTolerance(setting.s, run.samples.length, opts.zScore ?? 5, opts.meanSlack ?? 0, opts.stdSlack ?? 0);
  if (!(Math.abs(mean - setting.mu) <= tol.mean)) {
    fail(sampler, `sample mean ${mean.toFixed(4)} is off μ = ${setting.mu} by more than ${tol.mean.toFixed(4)}`);
  }
  if (!(Math.abs(std - setting.s) <= tol.std)) {
    fail(sampler, `sample std ${std.toFixed(4)} is off s = ${setting.s} by more than ${tol.std.toFixed(4)}`);
  }
  return { mean, std, tolMean: tol.mean, tolStd: tol.std };
}

/**
 * The vitest suite for a sampler plugin: for each options object, creates the sampler and runs
 * {@link checkSamplerTimesteps}, {@link checkSamplerRun}, {@link checkSamplerDeterminism} and
 * {@link checkSamplerDistribution} with the exact denoiser {@link gaussianDenoiser}. Call at the top
 * level of a test file; it activates the cpu backend itself unless `useCpuBackend: false`.
 */
export function samplerConformance(plugin: SamplerPlugin, options: SamplerConformanceOptions = {}): void {
  const schedule = options.schedule ?? conformanceSchedule();
  const mu = options.mu ?? 0.5;
  const s = options.s ?? 0.7;
  const shape = options.shape ?? [2];
  const list = options.optionsList && options.optionsList.length > 0 ? options.optionsList : [{}];
  describe(`sampler conformance: ${plugin.name}`, () => {
    if (options.useCpuBackend ?? true) activateBackendBeforeAll('cpu');
    it('is a sampler plugin with a name, description and options schema', () => {
      expect(plugin.kind).toBe('sampler');
      expect(plugin.name).toMatch(/^[a-z0-9][a-z0-9+._-]*$/);
      expect(plugin.description.length).toBeGreaterThan(0);
    });
    for (const raw of list) {
      const label = `${JSON.stringify(raw)}${options.steps !== undefined ? ` steps=${options.steps}` : ''}`;
      const make = async (): Promise<{ sampler: Sampler; setting: SamplerCheckSetting }> => {
        const sampler = await plugin.create(parseOptions(plugin.options, raw, 'sampler'), testPluginContext());
        return { sampler, setting: { schedule, mu, s, shape, steps: options.steps } };
      };
      it(`${label}: options round-trip through JSON`, () => {
        const first = parseOptions(plugin.options, raw, 'sampler');
        expect(parseOptions(plugin.options, JSON.parse(JSON.stringify(first)), 'sampler')).toStrictEqual(first);
      });
      it(`${label}: timesteps are decreasing and inside [0, T − 1]`, async () => {
        const { sampler } = await make();
        expect(sampler.name).toBe(plugin.name);
        expect(Number.isInteger(sampler.defaultSteps) && sampler.defaultSteps > 0).toBe(true);
        checkSamplerTimesteps(sampler, schedule, options.steps ?? sampler.defaultSteps);
      });
      it(`${label}: its check accepts this setting, and a declared reverse loop is its own`, async () => {
        const { sampler } = await make();
        checkSamplerDeclarations(sampler, schedule, options.steps);
      });
      it(`${label}: output shape, finite values, nfe, onStep, no tensor leak`, async () => {
        const { sampler, setting } = await make();
        await checkSamplerRun(sampler, setting);
      });
      it(`${label}: seeded determinism, also under concurrent calls`, async () => {
        const { sampler, setting } = await make();
        await checkSamplerDeterminism(sampler, setting);
      });
      it(`${label}: samples match N(μ, s²) for the exact denoiser`, async () => {
        const { sampler, setting } = await make();
        await checkSamplerDistribution(sampler, setting, options);
      });
    }
  });
}
