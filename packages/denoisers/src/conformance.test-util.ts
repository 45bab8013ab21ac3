/**
 * Test helpers shared by the denoiser tests (not built into dist): a reference schedule, build
 * contexts, and the checks every trainable denoiser must pass.
 */
import {
  artifactsToFiles,
  type DenoiserBuildContext,
  type DenoiserModel,
  filesToArtifacts,
  type ModelArtifacts,
  type PredictionType,
  Rng,
  scheduleFromBetas,
} from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { expect } from 'vitest';

/** The reference schedule: β = linspace(1e-4, 0.02, T). */
export function linearSchedule(T = 100) {
  const betas = Array.from({ length: T }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / Math.max(1, T - 1));
  return scheduleFromBetas('linear', betas, { betaStart: 1e-4, betaEnd: 0.02, timesteps: T });
}

/** A build context for a data shape. */
export function makeCtx(shape: number[], seed = 1, predictionType: PredictionType = 'epsilon', T = 100): DenoiserBuildContext {
  return { dataShape: shape, schedule: linearSchedule(T), predictionType, rng: new Rng(seed) };
}

/** Random inputs: xₜ ~ N(0, 1) [n, …shape] and t, integers and fractions in [0, T−1]. */
export function randomInputs(shape: number[], n: number, T: number, seed = 7): { x: Float32Array; t: Float32Array } {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = rng.normalArray(n * size);
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = i % 2 === 0 ? rng.int(T) : rng.uniform() * (T - 1);
  return { x, t };
}

/** Runs predict and returns plain values, disposing every tensor it made. */
export function predictValues(model: DenoiserModel, shape: number[], x: Float32Array, t: Float32Array): { values: Float32Array; shape: number[] } {
  const n = t.length;
  const xt = tf.tensor(x, [n, ...shape]);
  const tt = tf.tensor1d(t);
  const out = model.predict(xt, tt);
  const res = { values: out.dataSync().slice() as Float32Array, shape: out.shape.slice() };
  tf.dispose([xt, tt, out]);
  return res;
}

/** Concatenated values of all variables (for determinism checks). */
export function weightValues(model: DenoiserModel): number[] {
  return model.variables.flatMap((v) => Array.from(v.dataSync()));
}

/** Every variable gets a finite, non-zero gradient from an MSE-like loss on predict. */
export function expectGradientsForAll(model: DenoiserModel, shape: number[], n: number, T: number): void {
  const { x, t } = randomInputs(shape, n, T, 11);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const xt = tf.tensor(x, [n, ...shape]);
    const tt = tf.tensor1d(t);
    const target = tf.randomNormal(xt.shape, 0, 1, 'float32', 3);
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.squaredDifference(model.predict(xt, tt), target)) as tf.Scalar,
      model.variables as tf.Variable[],
    );
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    for (const v of model.variables) {
      const g = grads[v.name];
      expect(g, `gradient for ${v.name}`).toBeDefined();
      expect(g.shape).toEqual(v.shape);
      const norm = tf.norm(g).dataSync()[0];
      expect(Number.isFinite(norm), `finite gradient for ${v.name}`).toBe(true);
      expect(norm, `non-zero gradient for ${v.name}`).toBeGreaterThan(0);
    }
  });
  expect(tf.memory().numTensors).toBe(before);
}

/** predict leaves exactly one tensor (its output) behind, and none once that is disposed. */
export function expectNoLeaks(model: DenoiserModel, shape: number[], n: number, T: number): void {
  const { x, t } = randomInputs(shape, n, T);
  const xt = tf.tensor(x, [n, ...shape]);
  const tt = tf.tensor1d(t);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const out = model.predict(xt, tt);
    expect(tf.memory().numTensors).toBe(before + 1);
    out.dispose();
  }
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([xt, tt]);
}

/** save() → JSON files → load() gives bitwise-identical predictions and identical variable names. */
export async function expectSaveLoadIdentical(
  model: DenoiserModel,
  load: (a: ModelArtifacts) => DenoiserModel | Promise<DenoiserModel>,
  shape: number[],
  n: number,
  T: number,
): Promise<ModelArtifacts> {
  const artifacts = await model.save();
  const files = artifactsToFiles(artifacts);
  const restoredArtifacts = filesToArtifacts({ modelJson: files.modelJson, weightsBin: files.weightsBin });
  const { x, t } = randomInputs(shape, n, T, 5);
  const a = predictValues(model, shape, x, t);
  // Dispose the original first so the loaded copy takes the same (plain) variable names.
  const names = model.variables.map((v) => v.name);
  model.dispose();
  const loaded = await load(restoredArtifacts);
  expect(loaded.variables.map((v) => v.name)).toEqual(names);
  const b = predictValues(loaded, shape, x, t);
  expect(b.shape).toEqual(a.shape);
  expect(Buffer.from(b.values.buffer).equals(Buffer.from(a.values.buffer))).toBe(true);
  loaded.dispose();
  return restoredArtifacts;
}

/**
 * The artifacts load with tfjs-layers' own `loadLayersModel` and its predict on [x, t[n,1]]
 * matches our raw-op predict (to float32 rounding: op order differs).
 */
export async function expectLayersModelMatches(model: DenoiserModel, shape: number[], n: number, T: number, tol = 2e-5): Promise<void> {
  const artifacts = await model.save();
  const files = artifactsToFiles(artifacts);
  const layers = await tfl.loadLayersModel(tf.io.fromMemory(filesToArtifacts(files)));
  const { x, t } = randomInputs(shape, n, T, 9);
  const ours = predictValues(model, shape, x, t);
  const xt = tf.tensor(x, [n, ...shape]);
  const tt = tf.tensor2d(t, [n, 1]);
  const out = layers.predict([xt, tt]) as tf.Tensor;
  expect(out.shape).toEqual([n, ...shape]);
  const theirs = out.dataSync();
  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < theirs.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(theirs[i] - ours.values[i]));
    maxAbs = Math.max(maxAbs, Math.abs(ours.values[i]));
  }
  expect(maxDiff).toBeLessThanOrEqual(tol * Math.max(1, maxAbs));
  tf.dispose([xt, tt, out]);
  layers.dispose();
}
