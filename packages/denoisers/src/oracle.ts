/**
 * `oracle`: the exact minimum-MSE denoiser, with no training. The MSE-optimal prediction of x₀
 * from xₜ = √ᾱ·x₀ + √(1−ᾱ)·ε is the posterior mean E[x₀ | xₜ] (DDPM eq. 4 plus Tweedie's
 * formula; Karras et al. 2022, eq. 57 for a finite set). It is computed in float64 on the CPU:
 * in closed form for a Gaussian-mixture dataset, or over the finite training set otherwise. Under
 * `training.objective: flow` it outputs the exact velocity E[ε − x₀ | xₜ] of the linear path instead
 * ({@link mixtureFlowVelocity}).
 * Comparing a trained model with it separates approximation error from sampler error.
 */
import {
  alphaBarAt,
  type DenoiserBuildContext,
  type DenoiserModel,
  type GaussianMixtureInfo,
  definePlugin,
  type ModelArtifacts,
  type NoiseSchedule,
  PluginError,
  type PredictionType,
  z,
} from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import { type CheckpointMeta, checkLoadedShape, checkShape, readMeta, sizeOf } from './common.js';

/** Options of `oracle`. */
export const oracleOptions = z
  .object({
    source: z
      .enum(['auto', 'mixture', 'training-set'])
      .default('auto')
      .describe(
        "What the posterior mean is taken over: the dataset's exact Gaussian mixture, the finite training set (the denoiser a model that memorises would learn), or auto (mixture when the dataset has one).",
      ),
  })
  .strict();

/** Parsed `oracle` options. */
export type OracleOptions = z.output<typeof oracleOptions>;

/** Below this, variances are clamped so ᾱ → 1 (noise-free) and ᾱ → 0 give finite outputs. */
const TINY = 1e-12;

/**
 * A posterior-mean function: fills x̂₀ (length D) for one row of xₜ = a·x₀ + b·ε, given a² and b²
 * (DDPM: ᾱ and 1 − ᾱ; the flow path: (1 − t)² and t²).
 */
type PosteriorMean = (xt: ArrayLike<number>, offset: number, signalVar: number, noiseVar: number, out: Float64Array) => void;

/**
 * The mixture's component responsibilities rₖ ∝ wₖ Πd N(xₜd; a μₖd, a² sₖd² + b²) for one row, in
 * log space (max-subtracted), written normalised into `r`; shared by the posterior mean and the
 * flow velocity so both weigh components alike.
 */
function mixtureResponsibilities(m: GaussianMixtureInfo, D: number): (xt: ArrayLike<number>, offset: number, signalVar: number, noiseVar: number, r: Float64Array) => void {
  const K = m.weights.length;
  const logW = m.weights.map((w) => Math.log(w));
  return (xt, offset, ab, noise, logR) => {
    const sa = Math.sqrt(ab);
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      let lr = logW[k];
      const mu = m.means[k];
      const s = m.stds[k];
      for (let d = 0; d < D; d++) {
        const v = Math.max(ab * s[d] * s[d] + noise, TINY);
        const r = xt[offset + d] - sa * mu[d];
        lr += -0.5 * (Math.log(2 * Math.PI * v) + (r * r) / v);
      }
      logR[k] = lr;
      if (lr > max) max = lr;
    }
    let total = 0;
    for (let k = 0; k < K; k++) {
      logR[k] = Math.exp(logR[k] - max);
      total += logR[k];
    }
    for (let k = 0; k < K; k++) logR[k] = logR[k] / total;
  };
}

/**
 * E[x₀ | xₜ] for a diagonal Gaussian mixture Σₖ wₖ N(μₖ, diag sₖ²): xₜ | k ~ N(√ᾱ μₖ, ᾱ sₖ² + 1−ᾱ),
 * so responsibilities rₖ ∝ wₖ Πd N(xₜd; √ᾱ μₖd, ᾱ sₖd² + 1−ᾱ) (in log space), and per component
 * E[x₀ | xₜ, k] = μₖ + √ᾱ sₖ²/(ᾱ sₖ² + 1−ᾱ) · (xₜ − √ᾱ μₖ) (Gaussian conditioning, Bishop 2006 eq. 2.116).
 */
export function mixturePosteriorMean(m: GaussianMixtureInfo, D: number): (xt: ArrayLike<number>, offset: number, alphaBar: number, out: Float64Array) => void {
  const mean = mixturePathMean(m, D);
  return (xt, offset, ab, out) => mean(xt, offset, ab, 1 - ab, out);
}

/** {@link mixturePosteriorMean} on any path xₜ = a·x₀ + b·ε, given a² and b² (the flow path's too). */
function mixturePathMean(m: GaussianMixtureInfo, D: number): PosteriorMean {
  const K = m.weights.length;
  const weigh = mixtureResponsibilities(m, D);
  const resp = new Float64Array(K);
  return (xt, offset, ab, noise, out) => {
    const sa = Math.sqrt(ab);
    weigh(xt, offset, ab, noise, resp);
    out.fill(0);
    for (let k = 0; k < K; k++) {
      const r = resp[k];
      if (r === 0) continue;
      const mu = m.means[k];
      const s = m.stds[k];
      for (let d = 0; d < D; d++) {
        const s2 = s[d] * s[d];
        const gain = (sa * s2) / Math.max(ab * s2 + noise, TINY);
        out[d] += r * (mu[d] + gain * (xt[offset + d] - sa * mu[d]));
      }
    }
  };
}

/**
 * E[x₀ | xₜ] for the empirical distribution of a finite set {xᵢ}: a softmax over points with
 * logits −‖xₜ − √ᾱ xᵢ‖²/(2(1−ᾱ)), computed in log space (max-subtracted) so it never underflows.
 * One row at a time, so memory stays O(N) whatever the batch size.
 */
export function finiteSetPosteriorMean(data: Float32Array, count: number, D: number): (xt: ArrayLike<number>, offset: number, alphaBar: number, out: Float64Array) => void {
  const mean = finiteSetPathMean(data, count, D);
  return (xt, offset, ab, out) => mean(xt, offset, ab, 1 - ab, out);
}

/** {@link finiteSetPosteriorMean} on any path xₜ = a·x₀ + b·ε, given a² and b² (the flow path's too). */
function finiteSetPathMean(data: Float32Array, count: number, D: number): PosteriorMean {
  const logits = new Float64Array(count);
  return (xt, offset, ab, noise, out) => {
    const sa = Math.sqrt(ab);
    const inv = 1 / (2 * Math.max(noise, TINY));
    let max = -Infinity;
    for (let i = 0; i < count; i++) {
      let d2 = 0;
      const base = i * D;
      for (let d = 0; d < D; d++) {
        const r = xt[offset + d] - sa * data[base + d];
        d2 += r * r;
      }
      const l = -d2 * inv;
      logits[i] = l;
      if (l > max) max = l;
    }
    out.fill(0);
    let total = 0;
    for (let i = 0; i < count; i++) {
      const w = Math.exp(logits[i] - max);
      if (w === 0) continue;
      total += w;
      const base = i * D;
      for (let d = 0; d < D; d++) out[d] += w * data[base + d];
    }
    for (let d = 0; d < D; d++) out[d] /= total;
  };
}

/**
 * The exact flow-matching velocity E[ε − x₀ | xₜ] on the linear path xₜ = (1 − t)·x₀ + t·ε
 * (Lipman et al. 2023 eq. 22–23) for a diagonal Gaussian mixture, in closed form and finite at
 * t = 0 and t = 1: with a = 1 − t, b = t, responsibilities rₖ as for the posterior mean, and per
 * component (Gaussian conditioning, Bishop 2006 eq. 2.116; Cov(x₀, xₜ) = a sₖ², Cov(ε, xₜ) = b)
 * E[ε − x₀ | xₜ, k] = (b − a sₖ²)/(a² sₖ² + b²) · (xₜ − a μₖ) − μₖ. Fills `out` (length D) for one row.
 */
export function mixtureFlowVelocity(m: GaussianMixtureInfo, D: number): (xt: ArrayLike<number>, offset: number, t: number, out: Float64Array) => void {
  const K = m.weights.length;
  const weigh = mixtureResponsibilities(m, D);
  const resp = new Float64Array(K);
  return (xt, offset, t, out) => {
    const a = 1 - t;
    weigh(xt, offset, a * a, t * t, resp);
    out.fill(0);
    for (let k = 0; k < K; k++) {
      const r = resp[k];
      if (r === 0) continue;
      const mu = m.means[k];
      const s = m.stds[k];
      for (let d = 0; d < D; d++) {
        const s2 = s[d] * s[d];
        const gain = (t - a * s2) / Math.max(a * a * s2 + t * t, TINY);
        out[d] += r * (gain * (xt[offset + d] - a * mu[d]) - mu[d]);
      }
    }
  };
}

/**
 * Converts x̂₀ to the experiment's target at noise level ᾱ: ε̂ = (xₜ − √ᾱ x̂₀)/√(1−ᾱ),
 * or v = √ᾱ ε̂ − √(1−ᾱ) x̂₀ (Salimans & Ho 2022), with √(1−ᾱ) clamped away from 0.
 */
function writeTarget(type: PredictionType, xt: ArrayLike<number>, offset: number, x0: Float64Array, ab: number, out: Float32Array): void {
  const sa = Math.sqrt(ab);
  const sb = Math.sqrt(Math.max(1 - ab, 0));
  const inv = 1 / Math.max(sb, TINY);
  for (let d = 0; d < x0.length; d++) {
    const eps = (xt[offset + d] - sa * x0[d]) * inv;
    out[offset + d] = type === 'sample' ? x0[d] : type === 'epsilon' ? eps : sa * eps - sb * x0[d];
  }
}

type ResolvedSource = 'mixture' | 'training-set';

function resolveSource(options: OracleOptions, ctx: DenoiserBuildContext): ResolvedSource {
  const mixture = ctx.dataset?.info.mixture;
  const source = options.source === 'auto' ? (mixture ? 'mixture' : 'training-set') : options.source;
  if (source === 'mixture' && !mixture) {
    throw new PluginError(`oracle: source "mixture" needs a dataset that describes its Gaussian mixture${ctx.dataset ? `, and "${ctx.dataset.name}" does not` : ''}`, {
      hint: 'Use denoiser.source=training-set (or auto), or a gaussian-mixture dataset.',
    });
  }
  if (source === 'training-set' && !ctx.trainingSet) {
    throw new PluginError('oracle: source "training-set" needs the training set in the build context, and none was given', {
      hint: 'Pass trainingSet when building or loading the oracle (the runner does this).',
    });
  }
  return source;
}

/**
 * The exact conditional posterior means of a mixture whose classes are its components: given class
 * k, x₀ ~ N(μₖ, diag sₖ²), so E[x₀ | xₜ, k] is the one-component case of {@link mixturePosteriorMean}.
 */
function mixtureClassMeans(m: GaussianMixtureInfo, D: number, classes: number): PosteriorMean[] {
  if (classes !== m.weights.length) {
    throw new PluginError(`oracle: the dataset has ${classes} classes but its mixture ${m.weights.length} components, so the exact class-conditional posterior is unknown`, {
      hint: 'Use denoiser.source=training-set for a conditional oracle on this dataset.',
    });
  }
  return m.means.map((mu, k) => mixturePathMean({ weights: [1], means: [mu], stds: [m.stds[k]] }, D));
}

/** The posterior mean over each class's own training rows (the empirical class-conditional distribution). */
function finiteSetClassMeans(set: NonNullable<DenoiserBuildContext['trainingSet']>, D: number, classes: number): PosteriorMean[] {
  const labels = set.labels;
  if (!labels) throw new PluginError('oracle: a conditional oracle over the training set needs its labels, and the training set has none');
  return Array.from({ length: classes }, (_, k) => {
    const rows: number[] = [];
    for (let i = 0; i < set.count; i++) if (labels[i] === k) rows.push(i);
    if (rows.length === 0) throw new PluginError(`oracle: class ${k} has no training rows, so its posterior mean is undefined`);
    const data = new Float32Array(rows.length * D);
    rows.forEach((r, j) => data.set(set.data.subarray(r * D, r * D + D), j * D));
    return finiteSetPathMean(data, rows.length, D);
  });
}

function checkMixture(m: GaussianMixtureInfo, D: number): void {
  const K = m.weights.length;
  const bad = (msg: string) => new PluginError(`oracle: dataset mixture is malformed: ${msg}`);
  if (K === 0 || m.means.length !== K || m.stds.length !== K) throw bad('weights, means and stds must have one entry per component');
  if (m.weights.some((w) => !(w >= 0))) throw bad('weights must be non-negative');
  for (let k = 0; k < K; k++) {
    if (m.means[k].length !== D || m.stds[k].length !== D) throw bad(`component ${k} must have ${D} means and stds (one per dimension)`);
  }
}

function makeOracle(ctx: DenoiserBuildContext, source: ResolvedSource, shape: readonly number[], schedule: NoiseSchedule): DenoiserModel {
  checkShape(shape, 'oracle');
  const D = sizeOf(shape);
  let mean: PosteriorMean;
  let flowVelocity: ReturnType<typeof mixtureFlowVelocity> | null = null;
  let description: string;
  // For a conditional oracle, the posterior mean given class k: over that class's part of the data only.
  let classMeans: PosteriorMean[] = [];
  const labelNames = ctx.labelNames;
  if (source === 'mixture') {
    const m = ctx.dataset?.info.mixture as GaussianMixtureInfo;
    checkMixture(m, D);
    mean = mixturePathMean(m, D);
    flowVelocity = mixtureFlowVelocity(m, D);
    description = `${m.weights.length}-component Gaussian mixture (closed form)`;
    if (labelNames) classMeans = mixtureClassMeans(m, D, labelNames.length);
  } else {
    const set = ctx.trainingSet as NonNullable<DenoiserBuildContext['trainingSet']>;
    if (set.data.length < set.count * D || set.count < 1) {
      throw new PluginError(`oracle: training set holds ${set.data.length} values, fewer than count × D = ${set.count} × ${D}`);
    }
    mean = finiteSetPathMean(set.data, set.count, D);
    description = `finite training set of ${set.count} points`;
    if (labelNames) classMeans = finiteSetClassMeans(set, D, labelNames.length);
  }
  const K = classMeans.length;
  const type = ctx.predictionType;
  const flow = ctx.objective === 'flow';
  const T = schedule.numTrainTimesteps;
  const x0 = new Float64Array(D);
  const v = new Float64Array(D);
  /**
   * E[ε − x₀ | xₜ] at flow time t for one row: closed form for a mixture; over a finite set, or
   * given a class (its posterior mean `given`), ε̂ = (xₜ − (1 − t)·x̂₀)/t from the posterior mean, exact
   * since ε = (xₜ − (1 − t)·x₀)/t (singular as t → 0, where samplers never ask).
   */
  const flowRow = (xv: ArrayLike<number>, offset: number, t: number, out: Float32Array, given: PosteriorMean | null): void => {
    if (flowVelocity && !given) flowVelocity(xv, offset, t, v);
    else {
      const a = 1 - t;
      (given ?? mean)(xv, offset, a * a, t * t, x0);
      for (let d = 0; d < D; d++) v[d] = (xv[offset + d] - a * x0[d]) / Math.max(t, TINY) - x0[d];
    }
    for (let d = 0; d < D; d++) out[offset + d] = v[d];
  };
  return {
    architecture: flow
      ? `oracle: exact flow-matching velocity E[ε − x₀|xₜ${K > 0 ? ', y' : ''}] over the ${description}`
      : `oracle: exact posterior mean E[x₀|xₜ${K > 0 ? ', y' : ''}] over the ${description}, output as ${type}`,
    ...(labelNames ? { labelNames: [...labelNames] } : {}),
    variables: [],
    parameterCount: 0,
    predict(xt: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor): tf.Tensor {
      const n = xt.shape[0];
      if (xt.size !== n * D) throw new PluginError(`oracle: xₜ has shape [${xt.shape}], expected [n, ${shape.join(', ')}]`);
      const xv = xt.dataSync();
      const tv = t.dataSync();
      const yv = K > 0 && labels ? labels.dataSync() : null;
      if (tv.length !== n) throw new PluginError(`oracle: t has ${tv.length} entries for a batch of ${n}`);
      const out = new Float32Array(n * D);
      let lastT = Number.NaN;
      let ab = 0;
      if (flow) {
        for (let i = 0; i < n; i++) {
          // The network time input is flowModelTime(t, T) = t·T (core's flow.ts); class y < K conditions.
          const y = yv ? yv[i] : K;
          flowRow(xv, i * D, tv[i] / T, out, y < K ? classMeans[y] : null);
        }
        return tf.tensor(out, xt.shape, 'float32');
      }
      for (let i = 0; i < n; i++) {
        if (tv[i] !== lastT) {
          lastT = tv[i];
          ab = alphaBarAt(schedule, lastT);
        }
        // Class y < K restricts the posterior to that class; the null class K (or no labels) keeps the whole distribution.
        const y = yv ? yv[i] : K;
        (y < K ? classMeans[y] : mean)(xv, i * D, ab, 1 - ab, x0);
        writeTarget(type, xv, i * D, x0, ab, out);
      }
      return tf.tensor(out, xt.shape, 'float32');
    },
    async save(): Promise<ModelArtifacts> {
      const meta: CheckpointMeta = {
        denoiser: 'oracle',
        formatVersion: 1,
        options: { source },
        dataShape: [...shape],
        numTrainTimesteps: schedule.numTrainTimesteps,
      };
      return {
        format: 'diffusionlab-oracle',
        generatedBy: '@diffusionlab/denoisers oracle',
        modelTopology: { class_name: 'DiffusionLabOracle', config: { source, predictionType: type, ...(flow ? { objective: 'flow' } : {}) } },
        userDefinedMetadata: { diffusionlab: meta },
        weightSpecs: [],
        weightData: new ArrayBuffer(0),
      };
    },
    dispose() {},
  };
}

/** Builds the oracle for ctx's dataset (mixture) or training set. */
export function buildOracle(options: OracleOptions, ctx: DenoiserBuildContext): DenoiserModel {
  return makeOracle(ctx, resolveSource(options, ctx), ctx.dataShape, ctx.schedule);
}

/** Rebuilds an oracle from its small model.json: the saved source, recomputed from ctx's data. */
export function loadOracle(artifacts: ModelArtifacts, ctx: DenoiserBuildContext): DenoiserModel {
  const meta = readMeta(artifacts, 'oracle');
  const options = oracleOptions.parse(meta.options);
  const shape = checkLoadedShape(meta, ctx, 'oracle');
  return makeOracle(ctx, resolveSource(options, ctx), shape, ctx.schedule);
}

/** The `oracle` plugin: the exact MSE-optimal denoiser, a lower bound every trained model is measured against. */
export const oracleDenoiser = definePlugin({
  kind: 'denoiser',
  name: 'oracle',
  description: 'Exact minimum-MSE denoiser E[x0|xt] (closed form for Gaussian mixtures, softmax over the training set otherwise); no training.',
  options: oracleOptions,
  create: (options) => ({
    name: 'oracle',
    trainable: false,
    build: (ctx) => buildOracle(options, ctx),
    load: (artifacts, ctx) => loadOracle(artifacts, ctx),
  }),
});
