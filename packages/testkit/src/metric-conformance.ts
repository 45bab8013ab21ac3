/**
 * Conformance checks for `metric` plugins: what the runner's noise floor and the sweep tables rely
 * on. Two draws of one distribution score inside the noise floor (estimated from several
 * perfect-generator draws against one reference, as the runner does), identical inputs at or below
 * it, a shifted distribution clearly worse; results are deterministic for a fixed ctx seed and leave
 * the inputs untouched; mismatched shapes and empty sets are refused with one diffusionlab error
 * naming the metric. Plain checks throw {@link ConformanceError}; {@link metricConformance} wraps them.
 */
import {
  type Dataset,
  type DatasetInfo,
  type GaussianMixtureInfo,
  isDiffusionLabError,
  type Metric,
  type MetricContext,
  type MetricResult,
  type PluginDefinition,
  parseOptions,
  Rng,
} from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { ConformanceError, meanStd } from './assertions.js';
import { checkOptionsRoundTrip, checkRejects, type InvalidOptionsCase, testPluginContext } from './plugin-options.js';

// biome-ignore lint/suspicious/noExplicitAny: a metric plugin with any option schema.
type MetricPlugin = PluginDefinition<'metric', any>;

/** Data for the metric checks: a distribution to draw from, its reference, and a worse one. */
export interface MetricSource {
  /** Shape of one sample. */
  shape: readonly number[];
  /** What the metric may read about the data (mixture, modes, range, …). */
  info: DatasetInfo;
  /** n i.i.d. draws of the distribution: what a perfect generator outputs. */
  draw(n: number, rng: Rng): Float32Array | Promise<Float32Array>;
  /** n reference draws of the same distribution (default: {@link MetricSource.draw}). */
  reference?(n: number, rng: Rng): Float32Array | Promise<Float32Array>;
  /** n draws of a clearly different distribution (default: draw + `shift` in every coordinate). */
  shifted?(n: number, rng: Rng): Float32Array | Promise<Float32Array>;
}

/** Draws n points of a diagonal Gaussian mixture (components picked at random), row-major [n, D]. */
function sampleMixture(m: GaussianMixtureInfo, n: number, rng: Rng): Float32Array {
  const D = m.means[0].length;
  const out = new Float32Array(n * D);
  const total = m.weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) {
    let u = rng.uniform() * total;
    let k = 0;
    while (k < m.weights.length - 1 && u >= m.weights[k]) u -= m.weights[k++];
    for (let j = 0; j < D; j++) out[i * D + j] = m.means[k][j] + m.stds[k][j] * rng.normal();
  }
  return out;
}

/**
 * A source for a diagonal Gaussian mixture, with `info.mixture` and `info.modes` set. Its shifted
 * distribution moves every mean by `shift` and puts all weight on the first component, so both
 * distances and mode-balance measures must see it as worse.
 */
export function mixtureSource(m: GaussianMixtureInfo, shift = 1): MetricSource {
  const D = m.means[0].length;
  const worse: GaussianMixtureInfo = { weights: m.weights.map((_, k) => (k === 0 ? 1 : 0)), means: m.means.map((mu) => mu.map((v) => v + shift)), stds: m.stds };
  return {
    shape: [D],
    info: { mixture: m, modes: { centers: m.means.map((c) => c.slice()) } },
    draw: (n, rng) => sampleMixture(m, n, rng),
    shifted: (n, rng) => sampleMixture(worse, n, rng),
  };
}

/** The default source: three equally weighted, well separated 2-D Gaussians (std 0.5). */
export function defaultMetricSource(): MetricSource {
  return mixtureSource({
    weights: [1 / 3, 1 / 3, 1 / 3],
    means: [
      [-2, 0],
      [2, 0],
      [0, 2.5],
    ],
    stds: [
      [0.5, 0.5],
      [0.5, 0.5],
      [0.5, 0.5],
    ],
  });
}

/** A source from a dataset, as the runner uses it: `perfectDraw` (else `reference`) against `reference`. */
export function datasetSource(d: Dataset, shifted?: MetricSource['shifted']): MetricSource {
  return {
    shape: d.shape,
    info: d.info,
    draw: (n, rng) => (d.perfectDraw ? d.perfectDraw(n, rng) : d.reference(n, rng)),
    reference: (n, rng) => d.reference(n, rng),
    ...(shifted ? { shifted } : {}),
  };
}

/** What the checks need besides the metric. */
export interface MetricCheckSetting {
  source: MetricSource;
  /** Rows per draw (default 400). */
  n?: number;
  /** Perfect-generator draws that estimate the noise floor (default 5). */
  replicates?: number;
  /** Standard deviations of the floor estimates a same-distribution score may lie beyond their mean (default 4). */
  zScore?: number;
  /** Shift added to every coordinate when the source has no `shifted` (default 1). */
  shift?: number;
}

const fail = (m: { name: string }, msg: string): never => {
  throw new ConformanceError(`metric ${JSON.stringify(m.name)}: ${msg}`);
};

/** A metric context as the runner makes one: the source's shape and info, and a seeded rng. */
export function metricContext(source: MetricSource, seed = 7): MetricContext {
  return { shape: source.shape, info: source.info, rng: new Rng(seed) };
}

/** The scalar of a result, checking the result's form: a finite-or-NaN number, details of numbers, number arrays or strings. */
export function resultValue(metric: Metric, r: MetricResult): number {
  const value = typeof r === 'number' ? r : r?.value;
  if (typeof value !== 'number') return fail(metric, `compute must return a number or { value, details? }, got ${JSON.stringify(r)}`);
  if (typeof r === 'object' && r.details !== undefined) {
    for (const [k, v] of Object.entries(r.details)) {
      const ok = typeof v === 'number' || typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'number'));
      if (!ok) fail(metric, `details.${k} must be a number, a number array or a string, got ${JSON.stringify(v)}`);
    }
  }
  return value;
}

const drawOf =
  (s: MetricSource, which: 'draw' | 'reference' | 'shifted', shift: number) =>
  async (n: number, rng: Rng): Promise<Float32Array> => {
    if (which === 'reference') return await (s.reference ?? s.draw)(n, rng);
    if (which === 'draw') return await s.draw(n, rng);
    if (s.shifted) return await s.shifted(n, rng);
    const x = Float32Array.from(await s.draw(n, rng));
    for (let i = 0; i < x.length; i++) x[i] += shift;
    return x;
  };

/** The noise floor measured as the runner measures it, repeated: perfect draws against one reference. */
export interface NoiseFloor {
  values: number[];
  mean: number;
  std: number;
  /** The worst value a same-distribution score may take: mean ± z·std, toward "worse". */
  edge: number;
}

/**
 * Checks the metric against the noise floor: `replicates` perfect draws scored against one reference
 * give finite values (the floor); an independent draw of the same distribution and the reference
 * scored against itself stay at or better than its edge (mean + z·std, mirrored for higher-is-better);
 * the shifted distribution scores worse than both the edge and every floor value. Returns the floor.
 */
export async function checkMetricNoiseFloor(metric: Metric, setting: MetricCheckSetting): Promise<{ floor: NoiseFloor; same: number; identical: number; shifted: number }> {
  const { source } = setting;
  const n = setting.n ?? 400;
  const K = setting.replicates ?? 5;
  const z = setting.zScore ?? 4;
  const shift = setting.shift ?? 1;
  const reference = await drawOf(source, 'reference', shift)(n, new Rng(1000));
  const score = async (x: Float32Array) => resultValue(metric, await metric.compute(x, reference, metricContext(source)));
  const values: number[] = [];
  for (let k = 0; k < K; k++) values.push(await score(await drawOf(source, 'draw', shift)(n, new Rng(2000 + k))));
  const bad = values.find((v) => !Number.isFinite(v));
  if (bad !== undefined) fail(metric, `the noise floor (a perfect draw against the reference) is ${bad}; it must be finite`);
  const { mean, std } = meanStd(values);
  const sign = metric.higherIsBetter ? -1 : 1;
  const edge = mean + sign * z * std;
  const worseThan = (v: number, bound: number) => sign * (v - bound) > 0;
  const floor = { values, mean, std, edge };
  const floorText = `noise floor ${mean.toPrecision(4)} ± ${std.toPrecision(3)} over ${K} draws (edge ${edge.toPrecision(4)})`;
  const same = await score(await drawOf(source, 'draw', shift)(n, new Rng(3000)));
  if (!Number.isFinite(same) || worseThan(same, edge)) fail(metric, `an independent draw of the same distribution scores ${same}, worse than the ${floorText}`);
  const identical = await score(reference.slice());
  if (!Number.isFinite(identical) || worseThan(identical, edge)) fail(metric, `the reference scored against itself gives ${identical}, worse than the ${floorText}`);
  const shifted = await score(await drawOf(source, 'shifted', shift)(n, new Rng(4000)));
  const worst = metric.higherIsBetter ? Math.min(...values) : Math.max(...values);
  if (!(worseThan(shifted, edge) && worseThan(shifted, worst))) {
    fail(metric, `a shifted distribution scores ${shifted}, not worse than the ${floorText}; the metric cannot tell a wrong distribution from sampling noise`);
  }
  return { floor, same, identical, shifted };
}

/**
 * Checks determinism and purity: the same inputs and a context with the same seed give the same value
 * twice (noise floors compare like with like), and compute leaves both input arrays unchanged.
 */
export async function checkMetricDeterminism(metric: Metric, setting: MetricCheckSetting): Promise<void> {
  const { source } = setting;
  const n = setting.n ?? 400;
  const shift = setting.shift ?? 1;
  const g = await drawOf(source, 'draw', shift)(n, new Rng(5000));
  const r = await drawOf(source, 'reference', shift)(n, new Rng(5001));
  const g0 = g.slice();
  const r0 = r.slice();
  const a = resultValue(metric, await metric.compute(g, r, metricContext(source, 9)));
  const b = resultValue(metric, await metric.compute(g, r, metricContext(source, 9)));
  if (!Object.is(a, b)) fail(metric, `the same inputs and ctx seed give ${a}, then ${b}; derive all randomness from ctx.rng`);
  for (const [x, x0, which] of [
    [g, g0, 'generated'],
    [r, r0, 'reference'],
  ] as const) {
    const i = x.findIndex((v, k) => !Object.is(v, x0[k]));
    if (i >= 0) fail(metric, `compute changed the ${which} array at index ${i} (${x0[i]} → ${x[i]}); work on a copy`);
  }
}

/**
 * Checks that inputs of the wrong shape — a generated or reference array that is not a whole number of
 * samples of ctx.shape, or an empty set — are refused with one diffusionlab error (recognised by
 * `isDiffusionLabError`, so the CLI prints it cleanly) whose message names the metric. Arrays of
 * [n, …shape] with prod(shape) = 1 cannot be mis-shaped; then only the empty set is tried.
 */
export async function checkMetricRejectsShapes(metric: Metric, setting: MetricCheckSetting): Promise<void> {
  const { source } = setting;
  const D = source.shape.reduce((a, b) => a * b, 1);
  const good = await drawOf(source, 'draw', setting.shift ?? 1)(8, new Rng(6000));
  const cases: [string, Float32Array, Float32Array][] = [
    ['an empty generated set', new Float32Array(0), good],
    ['an empty reference set', good, new Float32Array(0)],
  ];
  if (D > 1) {
    const ragged = new Float32Array(good.length + 1);
    ragged.set(good);
    cases.push(['a generated array of 8·prod(shape) + 1 values', ragged, good], ['a reference array of 8·prod(shape) + 1 values', good, ragged]);
  }
  for (const [what, g, r] of cases) {
    let error: unknown;
    try {
      await metric.compute(g, r, metricContext(source));
    } catch (e) {
      error = e;
    }
    if (!isDiffusionLabError(error)) {
      fail(
        metric,
        `${what} (shape [${source.shape}]) should throw a diffusionlab error (PluginError), but ${error === undefined ? 'it returned a value' : `threw ${String(error)}`}`,
      );
    } else if (!error.message.includes(metric.name)) {
      fail(metric, `the error for ${what} should name the metric; it says: ${error.message}`);
    }
  }
}

/** Settings for {@link metricConformance}; every field is optional. */
export interface MetricConformanceOptions extends Partial<MetricCheckSetting> {
  /** Metric option objects to test (each parsed at `metric`); default `[{}]`. */
  optionsList?: Record<string, unknown>[];
  /** Bad options; each must throw one ConfigError naming its `path` (e.g. `metric.maxPoints`). */
  invalid?: InvalidOptionsCase[];
}

/**
 * The vitest suite for a metric plugin: for each options object, creates the metric and runs its
 * `check` (if any) on the source, {@link checkMetricNoiseFloor}, {@link checkMetricDeterminism} and
 * {@link checkMetricRejectsShapes}; then each `invalid` case. The source defaults to
 * {@link defaultMetricSource}. Call at the top level of a test file.
 */
export function metricConformance(plugin: MetricPlugin, options: MetricConformanceOptions = {}): void {
  const list = options.optionsList && options.optionsList.length > 0 ? options.optionsList : [{}];
  const setting = (): MetricCheckSetting => ({ ...options, source: options.source ?? defaultMetricSource() });
  describe(`metric conformance: ${plugin.name}`, () => {
    it('is a metric plugin with a name, description and options schema', () => {
      expect(plugin.kind).toBe('metric');
      expect(plugin.name).toMatch(/^[a-z0-9][a-z0-9+._-]*$/);
      expect(plugin.description.length).toBeGreaterThan(0);
    });
    for (const raw of list) {
      const label = JSON.stringify(raw);
      const make = async (): Promise<Metric> => {
        const m = await plugin.create(parseOptions(plugin.options, raw, 'metric'), testPluginContext());
        expect(m.name).toBe(plugin.name);
        expect(typeof m.higherIsBetter).toBe('boolean');
        return m;
      };
      it(`${label}: options round-trip through JSON`, () => checkOptionsRoundTrip(plugin, raw, 'metric'));
      it(`${label}: same distribution within the noise floor, identical inputs at or below it, a shifted one worse`, async () => {
        const m = await make();
        const s = setting();
        m.check?.({ shape: s.source.shape, info: s.source.info });
        await checkMetricNoiseFloor(m, s);
      });
      it(`${label}: deterministic for a ctx seed, inputs left unchanged`, async () => checkMetricDeterminism(await make(), setting()));
      it(`${label}: refuses mismatched shapes and empty sets with an error naming the metric`, async () => checkMetricRejectsShapes(await make(), setting()));
    }
    for (const c of options.invalid ?? []) {
      it(`rejects ${JSON.stringify(c.options)} at ${c.path}`, () => checkRejects(plugin, c, 'metric'));
    }
  });
}
