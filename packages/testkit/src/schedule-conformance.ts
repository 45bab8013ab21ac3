/**
 * Conformance checks for `schedule` plugins: the invariants every sampler and the training loop
 * rely on (shapes, β range, ᾱ = Π(1 − β), monotone ᾱ, reproducible options). The checks are plain
 * functions that throw {@link ConformanceError}; {@link scheduleConformance} wraps them in vitest.
 */
import { type NoiseSchedule, type PluginDefinition, parseOptions } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { ConformanceError } from './assertions.js';
import { checkRejects, type InvalidOptionsCase, testPluginContext } from './plugin-options.js';

/** Extra cases for {@link scheduleConformance}. */
export interface ScheduleConformanceExtras {
  /** Bad options; each must throw one ConfigError naming `path`. */
  invalid?: InvalidOptionsCase[];
  /** Config slot the options live under (default `schedule`). */
  basePath?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a schedule plugin with any option schema.
type SchedulePlugin = PluginDefinition<'schedule', any>;

/** Parses raw options as the runner does and creates the schedule. */
export async function createSchedule(plugin: SchedulePlugin, raw: Record<string, unknown>, basePath = 'schedule'): Promise<NoiseSchedule> {
  const parsed = parseOptions(plugin.options, raw, basePath);
  return await plugin.create(parsed, testPluginContext());
}

/** ᾱ = Π(1 − β) must hold to this absolute tolerance (float64 cumulative product). */
export const ALPHA_BAR_TOL = 1e-12;

/**
 * Checks the numeric invariants of a schedule; why: samplers divide by √(1−ᾱ) and take logs of ᾱ,
 * so a schedule that breaks one of these fails far from its cause. `expectedT` (if given) is the T
 * the options asked for.
 */
export function checkSchedule(s: NoiseSchedule, expectedT?: number): void {
  const fail = (msg: string): never => {
    throw new ConformanceError(`schedule ${JSON.stringify(s.name)}: ${msg}`);
  };
  const T = s.numTrainTimesteps;
  if (!Number.isInteger(T) || T < 1) fail(`numTrainTimesteps must be a positive integer, got ${T}`);
  if (expectedT !== undefined && T !== expectedT) fail(`numTrainTimesteps is ${T}, but the options asked for ${expectedT}`);
  for (const key of ['betas', 'alphas', 'alphasCumprod'] as const) {
    const arr = s[key];
    if (!(arr instanceof Float64Array)) fail(`${key} must be a Float64Array, got ${Object.prototype.toString.call(arr)}`);
    if (arr.length !== T) fail(`${key} has length ${arr.length}, expected T = ${T}`);
  }
  let prod = 1;
  for (let t = 0; t < T; t++) {
    const b = s.betas[t];
    const finalOne = t === T - 1 && b === 1;
    if (!(b > 0 && b < 1) && !finalOne) fail(`β[${t}] = ${b} is outside (0, 1) (β = 1 is allowed only at the last step)`);
    if (s.alphas[t] !== 1 - b) fail(`α[${t}] = ${s.alphas[t]} ≠ 1 − β[${t}] = ${1 - b}`);
    prod *= 1 - b;
    const ab = s.alphasCumprod[t];
    if (!(ab >= 0 && ab <= 1)) fail(`ᾱ[${t}] = ${ab} is outside [0, 1]`);
    if (!(Math.abs(ab - prod) <= ALPHA_BAR_TOL)) fail(`ᾱ[${t}] = ${ab} but Π_{s≤t}(1 − β_s) = ${prod} (tolerance ${ALPHA_BAR_TOL})`);
    if (t > 0 && !(ab < s.alphasCumprod[t - 1])) fail(`ᾱ is not strictly decreasing: ᾱ[${t - 1}] = ${s.alphasCumprod[t - 1]}, ᾱ[${t}] = ${ab}`);
  }
  if (typeof s.params !== 'object' || s.params === null) fail('params must be an object (the options it was made with)');
}

function sameArray(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * Checks options survive parse → JSON → parse unchanged (why: run directories store the resolved
 * config as JSON and `diffusionlab sample` re-reads it), and that `schedule.params` fed back through
 * the schema rebuilds the identical schedule (why: params are the record of how it was made).
 */
export async function checkScheduleOptionsRoundTrip(plugin: SchedulePlugin, raw: Record<string, unknown>): Promise<void> {
  const first = parseOptions(plugin.options, raw, 'schedule');
  const second = parseOptions(plugin.options, JSON.parse(JSON.stringify(first)), 'schedule');
  try {
    expect(second).toStrictEqual(first);
  } catch {
    throw new ConformanceError(`${plugin.name}: options change after a JSON round trip: ${JSON.stringify(first)} → ${JSON.stringify(second)}`);
  }
  const a = await plugin.create(first, testPluginContext());
  const fromParams = parseOptions(plugin.options, JSON.parse(JSON.stringify(a.params)), 'schedule');
  const b = await plugin.create(fromParams, testPluginContext());
  if (!sameArray(a.betas, b.betas)) {
    throw new ConformanceError(`${plugin.name}: rebuilding from schedule.params (${JSON.stringify(a.params)}) gives different β`);
  }
}

/** Checks that creating twice gives bit-identical arrays; why: the same config must give the same run. */
export async function checkScheduleDeterminism(plugin: SchedulePlugin, raw: Record<string, unknown>): Promise<void> {
  const a = await createSchedule(plugin, raw);
  const b = await createSchedule(plugin, raw);
  for (const key of ['betas', 'alphas', 'alphasCumprod'] as const) {
    if (!sameArray(a[key], b[key])) throw new ConformanceError(`${plugin.name}: ${key} differs between two create() calls with the same options`);
  }
}

/** Checks bad options throw one ConfigError whose issues name `path`; why: users fix configs by key. */
export async function checkScheduleRejects(plugin: SchedulePlugin, c: InvalidOptionsCase, basePath = 'schedule'): Promise<void> {
  await checkRejects(plugin, c, basePath);
}

/**
 * The vitest suite for a schedule plugin: for each options object, creates the schedule and runs
 * {@link checkSchedule}, {@link checkScheduleOptionsRoundTrip} and {@link checkScheduleDeterminism};
 * then checks each `extras.invalid` case is rejected at its key. Call at the top level of a test file.
 */
export function scheduleConformance(plugin: SchedulePlugin, optionsList: Record<string, unknown>[] = [{}], extras: ScheduleConformanceExtras = {}): void {
  const basePath = extras.basePath ?? 'schedule';
  describe(`schedule conformance: ${plugin.name}`, () => {
    it('is a schedule plugin with a name, description and options schema', () => {
      expect(plugin.kind).toBe('schedule');
      expect(plugin.name).toMatch(/^[a-z0-9][a-z0-9+._-]*$/);
      expect(plugin.description.length).toBeGreaterThan(0);
      expect(typeof plugin.options.safeParse).toBe('function');
    });
    for (const raw of optionsList.length > 0 ? optionsList : [{}]) {
      const label = JSON.stringify(raw);
      it(`${label}: shapes, β ∈ (0, 1], ᾱ = Π(1 − β) strictly decreasing in [0, 1]`, async () => {
        const parsed = parseOptions(plugin.options, raw, basePath) as { timesteps?: unknown };
        const s = await createSchedule(plugin, raw, basePath);
        expect(s.name).toBe(plugin.name);
        checkSchedule(s, typeof parsed.timesteps === 'number' ? parsed.timesteps : undefined);
      });
      it(`${label}: options round-trip through JSON and params rebuild the schedule`, () => checkScheduleOptionsRoundTrip(plugin, raw));
      it(`${label}: deterministic`, () => checkScheduleDeterminism(plugin, raw));
    }
    for (const c of extras.invalid ?? []) {
      it(`rejects ${JSON.stringify(c.options)} at ${c.path}`, () => checkScheduleRejects(plugin, c, basePath));
    }
  });
}
