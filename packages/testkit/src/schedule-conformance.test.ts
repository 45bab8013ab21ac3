import { definePlugin, type NoiseSchedule, scheduleFromBetas, z } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { ConformanceError } from './assertions.js';
import { checkSchedule, checkScheduleDeterminism, checkScheduleOptionsRoundTrip, checkScheduleRejects, scheduleConformance } from './schedule-conformance.js';

/** A minimal well-behaved schedule plugin: constant β. */
const constant = definePlugin({
  kind: 'schedule',
  name: 'constant',
  description: 'Constant β (test fixture).',
  options: z
    .object({
      timesteps: z.number().int().positive().default(10).describe('T.'),
      beta: z.number().gt(0).lt(1).default(0.1).describe('β.'),
    })
    .strict(),
  create: (o) => scheduleFromBetas('constant', new Array(o.timesteps).fill(o.beta), o),
});

scheduleConformance(constant, [{}, { timesteps: 3, beta: 0.5 }], {
  invalid: [{ options: { beta: 2 }, path: 'schedule.beta' }],
});

/** A schedule with one field replaced, bypassing core's checks, to show each check can fail. */
function tampered(patch: Partial<Record<keyof NoiseSchedule, unknown>>): NoiseSchedule {
  const good = scheduleFromBetas('x', [0.1, 0.2, 0.3]);
  return { ...good, ...patch } as NoiseSchedule;
}

describe('checkSchedule catches broken schedules', () => {
  it('accepts a good one, including β_T = 1', () => {
    checkSchedule(scheduleFromBetas('x', [0.1, 0.2, 1]), 3);
  });
  it.each([
    ['wrong T', scheduleFromBetas('x', [0.1, 0.2]), 3, /asked for 3/],
    ['Float32Array', tampered({ betas: new Float32Array([0.1, 0.2, 0.3]) }), undefined, /Float64Array/],
    ['short array', tampered({ alphas: new Float64Array([0.9, 0.8]) }), undefined, /length 2/],
    ['β = 0', tampered({ betas: new Float64Array([0, 0.2, 0.3]) }), undefined, /β\[0\] = 0/],
    ['β = 1 before the end', tampered({ betas: new Float64Array([0.1, 1, 0.3]) }), undefined, /β\[1\] = 1/],
    ['α ≠ 1 − β', tampered({ alphas: new Float64Array([0.9, 0.8, 0.75]) }), undefined, /α\[2\]/],
    ['ᾱ ≠ Π(1 − β)', tampered({ alphasCumprod: new Float64Array([0.9, 0.72, 0.5]) }), undefined, /Π/],
    ['ᾱ > 1', tampered({ alphasCumprod: new Float64Array([1.5, 0.72, 0.504]) }), undefined, /outside \[0, 1\]/],
  ])('%s', (_label, s, T, message) => {
    expect(() => checkSchedule(s as NoiseSchedule, T as number | undefined)).toThrow(message as RegExp);
  });
  it('catches a non-decreasing ᾱ (only possible when ᾱ disagrees with β, so build both consistently broken)', () => {
    const s = {
      ...scheduleFromBetas('x', [0.1, 0.2]),
      alphasCumprod: new Float64Array([0.9, 0.9]),
      betas: new Float64Array([0.1, 1e-17]),
      alphas: new Float64Array([0.9, 1 - 1e-17]),
    };
    expect(() => checkSchedule(s)).toThrow(/strictly decreasing/);
  });
});

describe('the plugin-level checks can fail', () => {
  const base = {
    kind: 'schedule' as const,
    description: 'broken',
    options: z.object({ timesteps: z.number().default(5).describe('T.'), beta: z.number().default(0.1).describe('β.') }).strict(),
  };
  it('determinism: a schedule using Math.random', async () => {
    const p = definePlugin({
      ...base,
      name: 'random',
      create: (o) =>
        scheduleFromBetas(
          'random',
          Array.from({ length: o.timesteps }, () => 0.1 + 0.1 * Math.random()),
          o,
        ),
    });
    await expect(checkScheduleDeterminism(p, {})).rejects.toThrow(ConformanceError);
  });
  it('round trip: params that do not rebuild the schedule', async () => {
    const p = definePlugin({ ...base, name: 'forgetful', create: (o) => scheduleFromBetas('forgetful', new Array(o.timesteps).fill(o.beta), { timesteps: o.timesteps }) });
    await expect(checkScheduleOptionsRoundTrip(p, { beta: 0.3 })).rejects.toThrow(/params/);
  });
  it('round trip: an option that does not survive JSON', async () => {
    const p = definePlugin({
      ...base,
      name: 'infinite',
      options: z.object({ timesteps: z.number().default(5).describe('T.'), cap: z.number().nullable().default(Number.POSITIVE_INFINITY).describe('cap') }).strict(),
      create: (o) => scheduleFromBetas('infinite', new Array(o.timesteps).fill(0.1), o),
    });
    await expect(checkScheduleOptionsRoundTrip(p, {})).rejects.toThrow(/JSON round trip/);
  });
  it('rejects: a schema that accepts bad input, or names the wrong key', async () => {
    const lax = definePlugin({ ...base, name: 'lax', create: (o) => scheduleFromBetas('lax', new Array(o.timesteps).fill(0.1), o) });
    await expect(checkScheduleRejects(lax, { options: { beta: 2 }, path: 'schedule.beta' })).rejects.toThrow(/nothing was thrown/);
    await expect(checkScheduleRejects(lax, { options: { timesteps: 'x' }, path: 'schedule.beta' })).rejects.toThrow(/schedule\.timesteps/);
  });
});
