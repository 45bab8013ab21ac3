/**
 * Conformance checks for `dataset` plugins: what training, evaluation and the noise floor rely on —
 * shapes and finite values of the training set, reference and perfect draws; seeded determinism;
 * reference draws that depend on their rng and (where the dataset documents it) never repeat a
 * training row; arrays the caller owns; `info` consistent with the shape; bad options refused at
 * their key. Plain checks throw {@link ConformanceError}; {@link datasetConformance} wraps them in vitest.
 */
import { type Dataset, type PluginDefinition, parseOptions, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { ConformanceError } from './assertions.js';
import { checkOptionsRoundTrip, checkRejects, type InvalidOptionsCase, testPluginContext } from './plugin-options.js';

// biome-ignore lint/suspicious/noExplicitAny: a dataset plugin with any option schema.
type DatasetPlugin = PluginDefinition<'dataset', any>;

const fail = (d: { name: string }, msg: string): never => {
  throw new ConformanceError(`dataset ${JSON.stringify(d.name)}: ${msg}`);
};

/** Values in one sample, prod(shape). */
const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Checks a draw of `rows` samples: a Float32Array of rows·prod(shape) finite values. */
function checkDraw(d: Dataset, what: string, x: unknown, rows: number): Float32Array {
  if (!(x instanceof Float32Array)) return fail(d, `${what} must return a Float32Array, got ${Object.prototype.toString.call(x)}`);
  const want = rows * sizeOf(d.shape);
  if (x.length !== want) fail(d, `${what} returned ${x.length} values, expected ${rows} × prod([${d.shape}]) = ${want}`);
  const bad = x.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) fail(d, `${what} value ${bad} is ${x[bad]}`);
  return x;
}

/**
 * Checks the dataset's static contract: `name`, a `shape` of positive integers, and `info` consistent
 * with it (mixture and mode centres of length prod(shape), weights summing to 1, positive stds, a
 * standardisation per dimension, a range lo < hi); `warnings`, when present, is an array of strings.
 */
export function checkDatasetShape(d: Dataset, name?: string): void {
  if (name !== undefined && d.name !== name) fail(d, `name is ${JSON.stringify(d.name)}, expected the plugin name ${JSON.stringify(name)}`);
  if (!Array.isArray(d.shape) || d.shape.length === 0 || !d.shape.every((s) => Number.isInteger(s) && s > 0)) {
    fail(d, `shape must be a non-empty array of positive integers, got ${JSON.stringify(d.shape)}`);
  }
  const D = sizeOf(d.shape);
  const info = d.info;
  if (typeof info !== 'object' || info === null) {
    fail(d, 'info must be an object (fields optional)');
    return;
  }
  const m = info.mixture;
  if (m) {
    const K = m.weights.length;
    if (K === 0 || m.means.length !== K || m.stds.length !== K) fail(d, 'info.mixture needs one weight, mean and std per component');
    const total = m.weights.reduce((a, b) => a + b, 0);
    if (!(Math.abs(total - 1) <= 1e-9) || m.weights.some((w) => !(w >= 0))) fail(d, `info.mixture.weights must be ≥ 0 and sum to 1, got [${m.weights}]`);
    m.means.forEach((mu, k) => mu.length !== D && fail(d, `info.mixture.means[${k}] has ${mu.length} values, samples have ${D}`));
    m.stds.forEach((s, k) => (s.length !== D || s.some((v) => !(v > 0))) && fail(d, `info.mixture.stds[${k}] must hold ${D} values > 0`));
  }
  info.modes?.centers.forEach((c, k) => c.length !== D && fail(d, `info.modes.centers[${k}] has ${c.length} values, samples have ${D}`));
  const st = info.standardization;
  if (st && (st.mean.length !== st.std.length || st.std.some((v) => !(v > 0)))) fail(d, 'info.standardization needs one mean and one std > 0 per dimension');
  if (info.range && !(info.range[0] < info.range[1])) fail(d, `info.range must be [lo, hi] with lo < hi, got [${info.range}]`);
  if (d.warnings !== undefined && !(Array.isArray(d.warnings) && d.warnings.every((w) => typeof w === 'string'))) fail(d, 'warnings must be an array of strings');
}

/**
 * Checks `load(rng)`: a training set of `count` rows (finite, the right length), the same for the same
 * seed, `info.labels` (if any) one per row, values inside `info.range` (if any), a `fresh` draw (if
 * offered) of the right shape and seeded; and that the returned arrays are the caller's (filling one
 * with NaN does not change the next load). Returns the training data.
 */
export async function checkDatasetLoad(d: Dataset, seed = 1): Promise<Float32Array> {
  const a = await d.load(new Rng(seed));
  if (!(Number.isInteger(a.count) && a.count > 0)) fail(d, `load() count must be a positive integer, got ${a.count}`);
  const data = checkDraw(d, 'load().data', a.data, a.count).slice();
  a.data.fill(Number.NaN);
  const b = await d.load(new Rng(seed));
  if (!sameArray(data, b.data)) fail(d, `two load() calls with seed ${seed} differ (or the first call's array is shared with the second: return a copy)`);
  if (d.info.labels && d.info.labels.length !== a.count) fail(d, `info.labels has ${d.info.labels.length} entries for ${a.count} training rows`);
  const range = d.info.range;
  if (range) {
    const out = data.findIndex((v) => v < range[0] || v > range[1]);
    if (out >= 0) fail(d, `training value ${out} is ${data[out]}, outside info.range [${range}]`);
  }
  if (a.fresh) {
    const f1 = checkDraw(d, 'load().fresh(5)', a.fresh(5, new Rng(3)), 5);
    if (!sameArray(f1, a.fresh(5, new Rng(3)))) fail(d, 'load().fresh(n, rng) gives different points for the same seed');
  }
  return data;
}

/**
 * Checks one kind of draw (`reference` or `perfectDraw`): n rows of finite values, identical for the
 * same seed, different for another seed (draws come from the rng, so the noise floor is not a fixed
 * number), owned by the caller. Returns the draw at `seed`.
 */
export async function checkDatasetDraw(d: Dataset, which: 'reference' | 'perfectDraw', n = 64, seed = 11): Promise<Float32Array> {
  const draw = which === 'reference' ? d.reference.bind(d) : d.perfectDraw?.bind(d);
  if (!draw) return fail(d, `${which} is not defined`);
  const a = checkDraw(d, `${which}(${n})`, await draw(n, new Rng(seed)), n).slice();
  const first = await draw(n, new Rng(seed));
  first.fill(Number.NaN);
  const b = await draw(n, new Rng(seed));
  if (!sameArray(a, b)) fail(d, `${which}(${n}) with seed ${seed} gives different points on two calls (or returns a shared array: return a copy)`);
  const c = await draw(n, new Rng(seed + 1));
  if (sameArray(a, c)) fail(d, `${which}(${n}) gives the same points for seeds ${seed} and ${seed + 1}; draw from the rng argument`);
  return a;
}

/**
 * Checks no row of `draw` equals a row of `pool` (the training data unless `against` says otherwise);
 * why: a reference the model trained on measures memorisation, not generation, and a noise-floor
 * draw that shares rows with the reference scores below what i.i.d. draws would, flattering every
 * model. Rows are compared exactly.
 */
export function checkDisjointRows(d: Dataset, training: Float32Array, draw: Float32Array, what = 'reference', against = 'training'): void {
  const D = sizeOf(d.shape);
  const seen = new Set<string>();
  for (let r = 0; r < training.length / D; r++) seen.add(training.subarray(r * D, r * D + D).join(','));
  for (let r = 0; r < draw.length / D; r++) {
    if (seen.has(draw.subarray(r * D, r * D + D).join(','))) {
      fail(
        d,
        against === 'training'
          ? `${what} row ${r} is also a training row; draw reference points the model did not train on`
          : `${what} row ${r} is also a ${against} row; draw the two from disjoint rows`,
      );
    }
  }
}

/** Settings for {@link datasetConformance}; every field is optional. */
export interface DatasetConformanceOptions {
  /** Dataset option objects to test (each parsed at `dataset`); default `[{}]`. Keep training sets small. */
  optionsList?: Record<string, unknown>[];
  /**
   * Whether reference draws must share no row with the training set (default true): true for fresh
   * draws and held-out splits; false for options documented to evaluate against the training rows
   * (e.g. `holdout: 0`). A function decides per options object.
   */
  independentReference?: boolean | ((raw: Record<string, unknown>) => boolean);
  /** Rows per reference and perfect draw (default 64). */
  n?: number;
  /** Bad options; each must throw one ConfigError naming its `path` (e.g. `dataset.size`). */
  invalid?: InvalidOptionsCase[];
}

/**
 * The vitest suite for a dataset plugin: for each options object, creates the dataset and runs
 * {@link checkDatasetShape}, {@link checkDatasetLoad}, {@link checkDatasetDraw} for `reference` and
 * (when offered) `perfectDraw`, {@link checkDisjointRows} for the reference against the training set
 * (where it is independent) and for the perfect draw against the reference;
 * then each `invalid` case. Call at the top level of a test file.
 */
export function datasetConformance(plugin: DatasetPlugin, options: DatasetConformanceOptions = {}): void {
  const list = options.optionsList && options.optionsList.length > 0 ? options.optionsList : [{}];
  const n = options.n ?? 64;
  describe(`dataset conformance: ${plugin.name}`, () => {
    it('is a dataset plugin with a name, description and options schema', () => {
      expect(plugin.kind).toBe('dataset');
      expect(plugin.name).toMatch(/^[a-z0-9][a-z0-9+._-]*$/);
      expect(plugin.description.length).toBeGreaterThan(0);
    });
    for (const raw of list) {
      const label = JSON.stringify(raw);
      const make = async (): Promise<Dataset> => await plugin.create(parseOptions(plugin.options, raw, 'dataset'), testPluginContext());
      it(`${label}: options round-trip through JSON`, () => checkOptionsRoundTrip(plugin, raw, 'dataset'));
      it(`${label}: shape and info, training set seeded and owned by the caller`, async () => {
        const d = await make();
        checkDatasetShape(d, plugin.name);
        await checkDatasetLoad(d);
        const again = await make();
        if (!sameArray(await checkDatasetLoad(d, 5), (await again.load(new Rng(5))).data)) fail(d, 'two datasets created with the same options load different training sets');
      });
      it(`${label}: reference and perfectDraw draws: shape, seeded; the reference independent of the training set, the perfect draw of the reference`, async () => {
        const d = await make();
        const ref = await checkDatasetDraw(d, 'reference', n);
        // Another seed than the reference's, as the runner draws the two from different forks of its rng.
        const perfect = d.perfectDraw ? await checkDatasetDraw(d, 'perfectDraw', n, 29) : undefined;
        const independent = typeof options.independentReference === 'function' ? options.independentReference(raw) : (options.independentReference ?? true);
        if (independent) {
          const training = (await d.load(new Rng(1))).data;
          checkDisjointRows(d, training, ref, 'reference');
        }
        // The noise floor is metric(perfectDraw, reference): shared rows would put it below an i.i.d. draw's score.
        if (perfect) checkDisjointRows(d, ref, perfect, 'perfectDraw', 'reference');
      });
    }
    for (const c of options.invalid ?? []) {
      it(`rejects ${JSON.stringify(c.options)} at ${c.path}`, () => checkRejects(plugin, c, 'dataset'));
    }
  });
}
