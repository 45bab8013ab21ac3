/**
 * `oracle`: the exact minimum-MSE denoiser, with no training. The MSE-optimal prediction of x₀
 * from xₜ = √ᾱ·x₀ + √(1−ᾱ)·ε is the posterior mean E[x₀ | xₜ] (DDPM eq. 4 plus Tweedie's
 * formula; Karras et al. 2022, eq. 57 for a finite set). It is computed in float64 on the CPU:
 * in closed form for a Gaussian-mixture dataset, or over the finite training set otherwise.
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

/** A posterior-mean function: fills x̂₀ (length D) for one row xₜ at noise level ᾱ. */
type PosteriorMean = (xt: ArrayLike<number>, offset: number, alphaBar: number, out: Float64Array) => void;

/**
 * E[x₀ | xₜ] for a diagonal Gaussian mixture Σₖ wₖ N(μₖ, diag sₖ²): xₜ | k ~ N(√ᾱ μₖ, ᾱ sₖ² + 1−ᾱ),
 * so responsibilities rₖ ∝ wₖ Πd N(xₜd; √ᾱ μₖd, ᾱ sₖd² + 1−ᾱ) (in log space), and per component
 * E[x₀ | xₜ, k] = μₖ + √ᾱ sₖ²/(ᾱ sₖ² + 1−ᾱ) · (xₜ − √ᾱ μₖ) (Gaussian conditioning, Bishop 2006 eq. 2.116).
 */
export function mixturePosteriorMean(m: GaussianMixtureInfo, D: number): PosteriorMean {
  const K = m.weights.length;
  const logW = m.weights.map((w) => Math.log(w));
  const logR = new Float64Array(K);
  return (xt, offset, ab, out) => {
    const sa = Math.sqrt(ab);
    const noise = 1 - ab;
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
    out.fill(0);
    for (let k = 0; k < K; k++) {
      const r = logR[k] / total;
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
export function finiteSetPosteriorMean(data: Float32Array, count: number, D: number): PosteriorMean {
  const logits = new Float64Array(count);
  return (xt, offset, ab, out) => {
    const sa = Math.sqrt(ab);
    const inv = 1 / (2 * Math.max(1 - ab, TINY));
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
  return m.means.map((mu, k) => mixturePosteriorMean({ weights: [1], means: [mu], stds: [m.stds[k]] }, D));
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
    return finiteSetPosteriorMean(data, rows.length, D);
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
  let description: string;
  // For a conditional oracle, the posterior mean given class k: over that class's part of the data only.
  let classMeans: PosteriorMean[] = [];
  const labelNames = ctx.labelNames;
  if (source === 'mixture') {
    const m = ctx.dataset?.info.mixture as GaussianMixtureInfo;
    checkMixture(m, D);
    mean = mixturePosteriorMean(m, D);
    description = `${m.weights.length}-component Gaussian mixture (closed form)`;
    if (labelNames) classMeans = mixtureClassMeans(m, D, labelNames.length);
  } else {
    const set = ctx.trainingSet as NonNullable<DenoiserBuildContext['trainingSet']>;
    if (set.data.length < set.count * D || set.count < 1) {
      throw new PluginError(`oracle: training set holds ${set.data.length} values, fewer than count × D = ${set.count} × ${D}`);
    }
    mean = finiteSetPosteriorMean(set.data, set.count, D);
    description = `finite training set of ${set.count} points`;
    if (labelNames) classMeans = finiteSetClassMeans(set, D, labelNames.length);
  }
  const K = classMeans.length;
  const type = ctx.predictionType;
  const x0 = new Float64Array(D);
  return {
    architecture: `oracle: exact posterior mean E[x₀|xₜ${K > 0 ? ', y' : ''}] over the ${description}, output as ${type}`,
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
      for (let i = 0; i < n; i++) {
        if (tv[i] !== lastT) {
          lastT = tv[i];
          ab = alphaBarAt(schedule, lastT);
        }
        // Class y < K restricts the posterior to that class; the null class K (or no labels) keeps the whole distribution.
        const y = yv ? yv[i] : K;
        (y < K ? classMeans[y] : mean)(xv, i * D, ab, x0);
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
        modelTopology: { class_name: 'DiffusionLabOracle', config: { source, predictionType: type } },
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
