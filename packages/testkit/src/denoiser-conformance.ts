/**
 * Conformance checks for `denoiser` plugins: what the training loop, checkpoints and samplers rely
 * on — predict's output shape and finiteness, tensor hygiene, seeded initialisation, save → load →
 * predict bit-identical (also into a context seeded differently), stable unique variable names, a
 * gradient for every trainable variable, and (for layers models) that tfjs-layers' own loader runs
 * the saved artifacts to the same output. Plain checks throw {@link ConformanceError};
 * {@link denoiserConformance} wraps them in a vitest suite.
 */
import {
  artifactsToFiles,
  type DenoiserBuildContext,
  type DenoiserModel,
  type Denoiser,
  filesToArtifacts,
  type ModelArtifacts,
  type PluginDefinition,
  type PredictionType,
  parseOptions,
  Rng,
  registerTfjsGradients,
} from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConformanceError } from './assertions.js';
import { activateBackendBeforeAll } from './backend.js';
import { conformanceSchedule } from './sampler-conformance.js';
import { checkRejects, type InvalidOptionsCase, testPluginContext } from './plugin-options.js';

// biome-ignore lint/suspicious/noExplicitAny: a denoiser plugin with any option schema.
type DenoiserPlugin = PluginDefinition<'denoiser', any>;

/**
 * A build context for one data shape: {@link conformanceSchedule}(T) (linear β 10⁻⁴ → 0.02), the
 * prediction type, and `Rng(seed)` for the weights. Spread extras (a dataset, a training set) over it.
 */
export function denoiserContext(shape: readonly number[], seed = 1, predictionType: PredictionType = 'epsilon', T = 100): DenoiserBuildContext {
  return { dataShape: shape, schedule: conformanceSchedule(T), predictionType, rng: new Rng(seed) };
}

/** Seeded inputs for predict: xₜ ~ N(0, 1) of [n, …shape], and t alternating integers and fractions in [0, T − 1]. */
export function denoiserInputs(shape: readonly number[], n: number, T: number, seed = 7): { x: Float32Array; t: Float32Array } {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = rng.normalArray(n * size);
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = i % 2 === 0 ? rng.int(T) : rng.uniform() * (T - 1);
  return { x, t };
}

/** Runs predict on plain arrays and returns plain values and the output shape, disposing every tensor it made. */
export function predictValues(model: DenoiserModel, shape: readonly number[], x: Float32Array, t: Float32Array): { values: Float32Array; shape: number[] } {
  const n = t.length;
  const xt = tf.tensor(x, [n, ...shape]);
  const tt = tf.tensor1d(t);
  const out = model.predict(xt, tt);
  const res = { values: out.dataSync().slice() as Float32Array, shape: out.shape.slice() };
  tf.dispose([xt, tt, out]);
  return res;
}

/** Every variable's values, concatenated in order; why: two seeded initialisations compare as one array. */
export function weightValues(model: DenoiserModel): number[] {
  return model.variables.flatMap((v) => Array.from(v.dataSync()));
}

const fail = (what: string, msg: string): never => {
  throw new ConformanceError(`denoiser ${what}: ${msg}`);
};

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/**
 * Checks one predict call: output shape [n, …shape] (the prediction target has the data's shape),
 * float32, finite; `parameterCount` equals the variables' sizes; variable names are unique (checkpoints,
 * EMA and optimiser state key on them).
 */
export function checkDenoiserPredict(model: DenoiserModel, shape: readonly number[], n: number, T: number, what = model.architecture): void {
  const { x, t } = denoiserInputs(shape, n, T);
  const xt = tf.tensor(x, [n, ...shape]);
  const tt = tf.tensor1d(t);
  const out = model.predict(xt, tt);
  const outShape = out.shape.slice();
  const dtype = out.dtype;
  const values = out.dataSync().slice();
  tf.dispose([xt, tt, out]);
  const want = [n, ...shape];
  if (outShape.join(',') !== want.join(',')) fail(what, `predict returned shape [${outShape}], expected [${want}]`);
  if (dtype !== 'float32') fail(what, `predict returned dtype ${dtype}, expected float32`);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) fail(what, `predict value ${bad} is ${values[bad]}`);
  const size = model.variables.reduce((s, v) => s + v.size, 0);
  if (model.parameterCount !== size) fail(what, `parameterCount is ${model.parameterCount}, but the variables hold ${size} scalars`);
  const names = model.variables.map((v) => v.name);
  const dup = names.find((name, i) => names.indexOf(name) !== i);
  if (dup !== undefined) fail(what, `two variables share the name ${JSON.stringify(dup)}; names must be unique and stable`);
}

/** Checks predict leaves exactly one tensor (its output) and none once that is disposed, over three calls. */
export function checkPredictNoLeak(model: DenoiserModel, shape: readonly number[], n: number, T: number, what = model.architecture): void {
  const { x, t } = denoiserInputs(shape, n, T);
  const xt = tf.tensor(x, [n, ...shape]);
  const tt = tf.tensor1d(t);
  const before = tf.memory().numTensors;
  try {
    for (let i = 0; i < 3; i++) {
      const out = model.predict(xt, tt);
      const now = tf.memory().numTensors;
      out.dispose();
      if (now !== before + 1) fail(what, `predict left ${now - before} tensors alive (expected 1, its output); wrap it in tf.tidy`);
    }
    if (tf.memory().numTensors !== before) fail(what, `predict leaked ${tf.memory().numTensors - before} tensor(s) after its output was disposed`);
  } finally {
    tf.dispose([xt, tt]);
  }
}

/**
 * Checks every trainable variable gets a finite, non-zero gradient from an MSE loss on predict; why: a
 * dead branch trains silently wrong. Call core's `await registerTfjsGradients()` once before it.
 */
export function checkDenoiserGradients(model: DenoiserModel, shape: readonly number[], n: number, T: number, what = model.architecture): void {
  const { x, t } = denoiserInputs(shape, n, T, 11);
  const before = tf.memory().numTensors;
  const problems: string[] = [];
  tf.tidy(() => {
    const xt = tf.tensor(x, [n, ...shape]);
    const tt = tf.tensor1d(t);
    const target = tf.tensor(new Rng(3).normalArray(xt.size), xt.shape);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(model.predict(xt, tt), target)) as tf.Scalar, model.variables as tf.Variable[]);
    if (!Number.isFinite(value.dataSync()[0])) problems.push(`the loss is ${value.dataSync()[0]}`);
    for (const v of model.variables) {
      const g = grads[v.name];
      if (!g) {
        problems.push(`no gradient for ${v.name}`);
        continue;
      }
      if (g.shape.join(',') !== v.shape.join(',')) problems.push(`gradient of ${v.name} has shape [${g.shape}], variable [${v.shape}]`);
      const norm = tf.norm(g).dataSync()[0];
      if (!(Number.isFinite(norm) && norm > 0)) problems.push(`gradient of ${v.name} has norm ${norm} (expected finite and > 0)`);
    }
  });
  if (problems.length > 0) fail(what, problems.join('; '));
  if (tf.memory().numTensors !== before) fail(what, `computing gradients leaked ${tf.memory().numTensors - before} tensor(s)`);
}

/**
 * Checks save() → the two checkpoint files (model.json, weights.bin) → load() gives bitwise-identical
 * predictions and the same variable names. The original is disposed before loading, so the copy can
 * take the same plain names, as it does in a fresh process. `load` may use a differently seeded
 * context: the weights must come from the artifacts. Returns the reloaded artifacts; disposes both models.
 */
export async function checkSaveLoadIdentical(
  model: DenoiserModel,
  load: (a: ModelArtifacts) => DenoiserModel | Promise<DenoiserModel>,
  shape: readonly number[],
  n: number,
  T: number,
  what = model.architecture,
): Promise<ModelArtifacts> {
  const before = tf.memory().numTensors - model.variables.length;
  const artifacts = await model.save();
  const files = artifactsToFiles(artifacts);
  const restored = filesToArtifacts({ modelJson: files.modelJson, weightsBin: files.weightsBin });
  const { x, t } = denoiserInputs(shape, n, T, 5);
  const a = predictValues(model, shape, x, t);
  const names = model.variables.map((v) => v.name);
  const count = model.parameterCount;
  model.dispose();
  const loaded = await load(restored);
  try {
    const loadedNames = loaded.variables.map((v) => v.name);
    if (loadedNames.join('\n') !== names.join('\n')) fail(what, `loaded variables are named [${loadedNames.join(', ')}], saved [${names.join(', ')}]`);
    if (loaded.parameterCount !== count) fail(what, `loaded parameterCount ${loaded.parameterCount} ≠ saved ${count}`);
    const b = predictValues(loaded, shape, x, t);
    if (b.shape.join(',') !== a.shape.join(',')) fail(what, `loaded model predicts shape [${b.shape}], saved one [${a.shape}]`);
    const d = firstDifference(a.values, b.values);
    if (d >= 0) fail(what, `save → load changed predict at value ${d}: ${a.values[d]} → ${b.values[d]} (must be bit-identical)`);
  } finally {
    loaded.dispose();
  }
  if (tf.memory().numTensors > before) fail(what, `${tf.memory().numTensors - before} tensor(s) outlive dispose() of the saved and loaded models`);
  return restored;
}

/**
 * Checks seeded initialisation: two builds from `Rng(seed)` have identical weights and predictions;
 * when the model has variables, `Rng(seed + 1)` gives different weights (initialisation draws from ctx.rng).
 */
export async function checkDenoiserDeterminism(
  build: (seed: number) => DenoiserModel | Promise<DenoiserModel>,
  shape: readonly number[],
  n: number,
  T: number,
  what: string,
  seed = 42,
): Promise<void> {
  const a = await build(seed);
  const b = await build(seed);
  const c = await build(seed + 1);
  try {
    const wa = weightValues(a);
    const d = firstDifference(wa, weightValues(b));
    if (d >= 0) fail(what, `two builds with seed ${seed} differ at weight ${d}; draw every initial value from ctx.rng`);
    const { x, t } = denoiserInputs(shape, n, T);
    const p = firstDifference(predictValues(a, shape, x, t).values, predictValues(b, shape, x, t).values);
    if (p >= 0) fail(what, `two builds with seed ${seed} predict differently at value ${p}`);
    if (a.variables.length > 0 && firstDifference(wa, weightValues(c)) < 0) fail(what, `seeds ${seed} and ${seed + 1} give identical weights; draw initial values from ctx.rng`);
  } finally {
    for (const m of [a, b, c]) m.dispose();
  }
}

/**
 * Checks the saved artifacts load with tfjs-layers' own `tf.loadLayersModel` (as a browser would)
 * and its predict on [xₜ, t as [n, 1]] matches the model's predict to `tol` relative to the output
 * scale (op order differs). Needs the optional peer `@tensorflow/tfjs-layers`.
 */
export async function checkLayersModelMatches(model: DenoiserModel, shape: readonly number[], n: number, T: number, tol = 2e-5, what = model.architecture): Promise<void> {
  let tfl: typeof import('@tensorflow/tfjs-layers');
  try {
    tfl = await import('@tensorflow/tfjs-layers');
  } catch (cause) {
    throw new ConformanceError(`denoiser ${what}: the layers-model check needs @tensorflow/tfjs-layers (pnpm add -D @tensorflow/tfjs-layers@4.22.0): ${String(cause)}`);
  }
  const files = artifactsToFiles(await model.save());
  const layers = await tfl.loadLayersModel(tf.io.fromMemory(filesToArtifacts(files)));
  const { x, t } = denoiserInputs(shape, n, T, 9);
  const ours = predictValues(model, shape, x, t);
  const xt = tf.tensor(x, [n, ...shape]);
  const tt = tf.tensor2d(t, [n, 1]);
  const out = layers.predict([xt, tt]) as tf.Tensor;
  const outShape = out.shape.slice();
  const theirs = out.dataSync().slice();
  tf.dispose([xt, tt, out]);
  layers.dispose();
  if (outShape.join(',') !== [n, ...shape].join(',')) fail(what, `tf.loadLayersModel's predict has shape [${outShape}], expected [${[n, ...shape]}]`);
  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < theirs.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(theirs[i] - ours.values[i]));
    maxAbs = Math.max(maxAbs, Math.abs(ours.values[i]));
  }
  if (!(maxDiff <= tol * Math.max(1, maxAbs))) fail(what, `tf.loadLayersModel's predict differs from predict by ${maxDiff} (tolerance ${tol}·max(1, ${maxAbs}))`);
}

/** Settings for {@link denoiserConformance}; every field is optional. */
export interface DenoiserConformanceOptions {
  /** Denoiser option objects to test (each parsed at `denoiser`); default `[{}]`. Keep them small: the suite builds each several times. */
  optionsList?: Record<string, unknown>[];
  /** Data shapes to build for (default `[[2]]`); e.g. `[[4, 4, 1]]` for an image network. */
  shapes?: number[][];
  /** Extra build-context fields per shape (a dataset, a training set), e.g. for a closed-form denoiser. */
  context?: (shape: readonly number[]) => Partial<DenoiserBuildContext>;
  /** Prediction type of the context (default `epsilon`). */
  predictionType?: PredictionType;
  /** Schedule length T (default 100). */
  T?: number;
  /** Batch size of the predict checks (default 4). */
  n?: number;
  /** Also check that `tf.loadLayersModel` runs the saved artifacts (needs `@tensorflow/tfjs-layers`); default false. */
  layersModel?: boolean;
  /** Bad options; each must throw one ConfigError naming its `path` (e.g. `denoiser.depth`). */
  invalid?: InvalidOptionsCase[];
  /** Activate the tfjs cpu backend in a beforeAll (default true). */
  useCpuBackend?: boolean;
}

/**
 * The vitest suite for a denoiser plugin: for each options object and data shape, builds the model
 * and runs {@link checkDenoiserPredict}, {@link checkPredictNoLeak}, {@link checkDenoiserDeterminism},
 * {@link checkSaveLoadIdentical} (loading into a differently seeded context), {@link checkDenoiserGradients}
 * when the denoiser is trainable, and {@link checkLayersModelMatches} when `layersModel` is set; then
 * each `invalid` case. Call at the top level of a test file.
 */
export function denoiserConformance(plugin: DenoiserPlugin, options: DenoiserConformanceOptions = {}): void {
  const shapes = options.shapes && options.shapes.length > 0 ? options.shapes : [[2]];
  const list = options.optionsList && options.optionsList.length > 0 ? options.optionsList : [{}];
  const T = options.T ?? 100;
  const n = options.n ?? 4;
  describe(`denoiser conformance: ${plugin.name}`, () => {
    if (options.useCpuBackend ?? true) activateBackendBeforeAll('cpu');
    it('is a denoiser plugin with a name, description and options schema', () => {
      expect(plugin.kind).toBe('denoiser');
      expect(plugin.name).toMatch(/^[a-z0-9][a-z0-9+._-]*$/);
      expect(plugin.description.length).toBeGreaterThan(0);
    });
    for (const raw of list) {
      it(`${JSON.stringify(raw)}: options round-trip through JSON`, () => {
        const first = parseOptions(plugin.options, raw, 'denoiser');
        expect(parseOptions(plugin.options, JSON.parse(JSON.stringify(first)), 'denoiser')).toStrictEqual(first);
      });
      for (const shape of shapes) {
        const label = `${JSON.stringify(raw)} on [${shape}]`;
        const ctx = (seed: number): DenoiserBuildContext => ({ ...denoiserContext(shape, seed, options.predictionType, T), ...options.context?.(shape) });
        const make = async (): Promise<Denoiser> => {
          const d = await plugin.create(parseOptions(plugin.options, raw, 'denoiser'), testPluginContext());
          expect(d.name).toBe(plugin.name);
          return d;
        };
        it(`${label}: predict shape, finite values, parameter count, no tensor leak`, async () => {
          const start = tf.memory().numTensors;
          const model = await (await make()).build(ctx(1));
          try {
            checkDenoiserPredict(model, shape, n, T, label);
            checkPredictNoLeak(model, shape, n, T, label);
          } finally {
            model.dispose();
          }
          if (tf.memory().numTensors !== start) fail(label, `${tf.memory().numTensors - start} tensor(s) outlive build() → dispose()`);
        });
        it(`${label}: seeded initialisation is deterministic`, async () => {
          const d = await make();
          await checkDenoiserDeterminism((seed) => d.build(ctx(seed)), shape, n, T, label);
        });
        it(`${label}: save → load → predict is bit-identical`, async () => {
          const d = await make();
          const model = await d.build(ctx(1));
          await checkSaveLoadIdentical(model, (a) => d.load(a, ctx(99)), shape, n, T, label);
        });
        it(`${label}: every trainable variable gets a gradient`, async () => {
          await registerTfjsGradients();
          const d = await make();
          const model = await d.build(ctx(3));
          try {
            if (d.trainable) checkDenoiserGradients(model, shape, n, T, label);
            else if (model.variables.length > 0) fail(label, `trainable is false but the model has ${model.variables.length} variables`);
          } finally {
            model.dispose();
          }
        });
        if (options.layersModel) {
          it(`${label}: tf.loadLayersModel runs the saved artifacts to the same output`, async () => {
            const model = await (await make()).build(ctx(4));
            try {
              await checkLayersModelMatches(model, shape, n, T, 2e-5, label);
            } finally {
              model.dispose();
            }
          });
        }
      }
    }
    for (const c of options.invalid ?? []) {
      it(`rejects ${JSON.stringify(c.options)} at ${c.path}`, () => checkRejects(plugin, c, 'denoiser'));
    }
  });
}
