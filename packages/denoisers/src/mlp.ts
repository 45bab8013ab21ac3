/**
 * `mlp`: a residual MLP denoiser with a sinusoidal time embedding (t normalised by T inside the
 * model) and optional Fourier input features. Each block adds a projection of the time embedding
 * before its second linear layer, as DDPM's residual blocks do (Ho et al. 2020, App. B):
 *   e = act(Lₑ(emb(t))),  h₀ = L_in(feat(x)),
 *   hᵢ₊₁ = hᵢ + Lᵢ,₂(act(Lᵢ,₁(act(hᵢ)) + Lᵢ,ₜ(e))),  out = L_out(act(h_depth)).
 */
import { type DenoiserBuildContext, type DenoiserModel, definePlugin, type ModelArtifacts, type ResidualMlpDescription, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  ACTIVATIONS,
  type ActivationName,
  activate,
  addDense,
  checkLoadedShape,
  checkShape,
  classEmbedding,
  classEmbeddingShape,
  classEmbeddingVariable,
  addClassEmbedding,
  dense,
  LAYERS_ACTIVATION,
  readMeta,
  denseWeightShapes,
  restoreCheckpoint,
  saveAsLayersModel,
  sizeOf,
  uniquePrefix,
  WeightStore,
} from './common.js';
import { networkEstimate } from './estimate.js';
import { FourierFeaturesLayer, fourierFeatures, registerDenoiserLayers, TimeEmbeddingLayer, timeEmbedding } from './embeddings.js';

/** Options of `mlp`. */
export const mlpOptions = z
  .object({
    width: z.number().int().min(1).max(8192).default(128).describe('Hidden width of every layer (at most 8192, the widest block the fused WebAssembly kernel holds).'),
    depth: z.number().int().min(1).max(64).default(3).describe('Number of residual blocks (each: two linear layers plus a time projection).'),
    timeEmbedding: z
      .number()
      .int()
      .min(2)
      .max(4096)
      .refine((v) => v % 2 === 0, { message: 'timeEmbedding must be even (half sines, half cosines)' })
      .default(64)
      .describe('Dimension of the sinusoidal embedding of t/T (even).'),
    inputEmbedding: z
      .number()
      .int()
      .min(0)
      .max(16)
      .default(0)
      .describe('Fourier features of the input: 0 = off, else F frequencies 2^0…2^(F−1) (sin and cos each), appended to x.'),
    activation: z
      .enum(ACTIVATIONS as unknown as [ActivationName, ...ActivationName[]])
      .default('silu')
      .describe('Nonlinearity: silu, gelu, relu or tanh.'),
  })
  .strict();

/** Parsed `mlp` options. */
export type MlpOptions = z.output<typeof mlpOptions>;

/**
 * Parameter count: time E·W + W; input D(1+2F)·W + W; each block 3(W² + W); output W·D + D.
 */
export function mlpParameterCount(D: number, o: MlpOptions): number {
  const W = o.width;
  const din = D * (1 + 2 * o.inputEmbedding);
  return o.timeEmbedding * W + W + din * W + W + o.depth * 3 * (W * W + W) + W * D + D;
}

function layerSizes(D: number, o: MlpOptions): [string, number, number][] {
  const W = o.width;
  const out: [string, number, number][] = [
    ['time_dense', o.timeEmbedding, W],
    ['in_dense', D * (1 + 2 * o.inputEmbedding), W],
  ];
  for (let i = 0; i < o.depth; i++) out.push([`block_${i}_dense_0`, W, W], [`block_${i}_time`, W, W], [`block_${i}_dense_1`, W, W]);
  out.push(['out_dense', W, D]);
  return out;
}

/** The Keras graph computing the same function: inputs x [...shape] and t [1]. */
function buildLayersGraph(shape: readonly number[], o: MlpOptions, T: number, classes: number): tfl.LayersModel {
  registerDenoiserLayers();
  const D = sizeOf(shape);
  const act = LAYERS_ACTIVATION[o.activation];
  const sym = (l: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => l.apply(x) as tfl.SymbolicTensor;
  const x = tfl.input({ shape: [...shape], name: 'x' });
  const t = tfl.input({ shape: [1], name: 't' });
  let feat = shape.length > 1 ? sym(tfl.layers.flatten({ name: 'flatten' }), x) : x;
  if (o.inputEmbedding > 0) feat = sym(new FourierFeaturesLayer({ name: 'input_embedding', frequencies: o.inputEmbedding }), feat);
  const emb = sym(new TimeEmbeddingLayer({ name: 'time_embedding', dim: o.timeEmbedding, numTrainTimesteps: T }), t);
  let e: tfl.SymbolicTensor;
  let y: tfl.SymbolicTensor | null = null;
  if (classes === 0) e = sym(tfl.layers.dense({ units: o.width, activation: act as never, name: 'time_dense' }), emb);
  else {
    // e = act(L_time(emb(t)) + C[y]): the class embedding joins the time embedding before its activation.
    y = tfl.input({ shape: [1], name: 'class', dtype: 'int32' });
    const c = sym(tfl.layers.flatten({ name: 'class_flatten' }), sym(tfl.layers.embedding({ inputDim: classes + 1, outputDim: o.width, name: 'class_embedding' }), y));
    const pre = sym(tfl.layers.add({ name: 'time_add_class' }), [sym(tfl.layers.dense({ units: o.width, name: 'time_dense' }), emb), c]);
    e = sym(tfl.layers.activation({ activation: act as never, name: 'time_act' }), pre);
  }
  let h = sym(tfl.layers.dense({ units: o.width, name: 'in_dense' }), feat);
  for (let i = 0; i < o.depth; i++) {
    let a = sym(tfl.layers.activation({ activation: act as never, name: `block_${i}_act_0` }), h);
    a = sym(tfl.layers.dense({ units: o.width, name: `block_${i}_dense_0` }), a);
    const tp = sym(tfl.layers.dense({ units: o.width, name: `block_${i}_time` }), e);
    a = sym(tfl.layers.add({ name: `block_${i}_add_time` }), [a, tp]);
    a = sym(tfl.layers.activation({ activation: act as never, name: `block_${i}_act_1` }), a);
    a = sym(tfl.layers.dense({ units: o.width, name: `block_${i}_dense_1` }), a);
    h = sym(tfl.layers.add({ name: `block_${i}_residual` }), [h, a]);
  }
  h = sym(tfl.layers.activation({ activation: act as never, name: 'out_act' }), h);
  let out = sym(tfl.layers.dense({ units: D, name: 'out_dense' }), h);
  if (shape.length > 1) out = sym(tfl.layers.reshape({ targetShape: [...shape], name: 'reshape' }), out);
  return tfl.model({ inputs: y ? [x, t, y] : [x, t], outputs: out, name: 'residual_mlp' });
}

function makeModel(store: WeightStore, shape: readonly number[], o: MlpOptions, T: number, labelNames?: readonly string[]): DenoiserModel {
  const D = sizeOf(shape);
  const act = (x: tf.Tensor) => activate(o.activation, x);
  const K = labelNames?.length ?? 0;
  return {
    architecture:
      `mlp: ${o.depth} residual blocks of width ${o.width} (${o.activation}), sinusoidal t/T embedding ${o.timeEmbedding}` +
      (o.inputEmbedding > 0 ? `, ${o.inputEmbedding} Fourier input frequencies` : '') +
      (K > 0 ? `, class embedding (${K} classes + null)` : ''),
    ...(labelNames ? { labelNames: [...labelNames] } : {}),
    variables: store.variables,
    get parameterCount() {
      return store.parameterCount;
    },
    predict(xt: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor): tf.Tensor {
      return tf.tidy(() => {
        const n = xt.shape[0];
        let feat: tf.Tensor = tf.reshape(xt, [n, D]);
        if (o.inputEmbedding > 0) feat = fourierFeatures(feat, o.inputEmbedding);
        let pre: tf.Tensor = dense(timeEmbedding(t, o.timeEmbedding, T), store, 'time_dense');
        if (K > 0) pre = tf.add(pre, classEmbedding(store, labels, n, K));
        const e = act(pre);
        let h: tf.Tensor = dense(feat, store, 'in_dense');
        for (let i = 0; i < o.depth; i++) {
          let a: tf.Tensor = dense(act(h), store, `block_${i}_dense_0`);
          a = tf.add(a, dense(e, store, `block_${i}_time`));
          a = dense(act(a), store, `block_${i}_dense_1`);
          h = tf.add(h, a);
        }
        return tf.reshape(dense(act(h), store, 'out_dense'), xt.shape);
      });
    },
    // A conditional model describes its class embedding too, so a fast path runs it with its labels (or declines).
    describe(): ResidualMlpDescription {
      const layer = (name: string) => ({ kernel: store.get(`${name}/kernel`), bias: store.get(`${name}/bias`) });
      return {
        kind: 'residual-mlp',
        activation: o.activation,
        dataDim: D,
        width: o.width,
        depth: o.depth,
        timeEmbedding: o.timeEmbedding,
        numTrainTimesteps: T,
        inputEmbedding: o.inputEmbedding,
        time: layer('time_dense'),
        input: layer('in_dense'),
        blocks: Array.from({ length: o.depth }, (_, i) => ({
          dense0: layer(`block_${i}_dense_0`),
          time: layer(`block_${i}_time`),
          dense1: layer(`block_${i}_dense_1`),
        })),
        out: layer('out_dense'),
        ...(K > 0 ? { classEmbedding: classEmbeddingVariable(store) } : {}),
      };
    },
    save(): Promise<ModelArtifacts> {
      return saveAsLayersModel(store, () => buildLayersGraph(shape, o, T, K), {
        denoiser: 'mlp',
        formatVersion: 1,
        options: { ...o },
        dataShape: [...shape],
        numTrainTimesteps: T,
        ...(labelNames ? { labelNames: [...labelNames] } : {}),
      });
    },
    dispose() {
      store.dispose();
    },
  };
}

/** Builds a freshly initialised residual MLP (PyTorch nn.Linear init from ctx.rng). */
export function buildMlp(options: MlpOptions, ctx: DenoiserBuildContext): DenoiserModel {
  checkShape(ctx.dataShape, 'mlp');
  registerDenoiserLayers();
  const D = sizeOf(ctx.dataShape);
  const store = new WeightStore(uniquePrefix('mlp', 'time_dense/kernel'));
  for (const [name, fanIn, fanOut] of layerSizes(D, options)) addDense(store, ctx.rng, name, fanIn, fanOut);
  if (ctx.labelNames) addClassEmbedding(store, ctx.rng, ctx.labelNames.length, options.width);
  return makeModel(store, ctx.dataShape, options, ctx.schedule.numTrainTimesteps, ctx.labelNames);
}

/** Rebuilds a saved residual MLP from its checkpoint's options, shape and T. */
export function loadMlp(artifacts: ModelArtifacts, ctx: DenoiserBuildContext): DenoiserModel {
  registerDenoiserLayers();
  const meta = readMeta(artifacts, 'mlp');
  const options = mlpOptions.parse(meta.options);
  const shape = checkLoadedShape(meta, ctx, 'mlp');
  const store = new WeightStore(uniquePrefix('mlp', 'time_dense/kernel'));
  const classes = meta.labelNames ? classEmbeddingShape(meta.labelNames.length, options.width) : [];
  restoreCheckpoint(store, artifacts, [...denseWeightShapes(layerSizes(sizeOf(shape), options)), ...classes]);
  return makeModel(store, shape, options, meta.numTrainTimesteps, meta.labelNames);
}

/** The `mlp` plugin: the corrected-configuration denoiser for low-dimensional data. */
export const mlpDenoiser = definePlugin({
  kind: 'denoiser',
  name: 'mlp',
  description: 'Residual MLP with a sinusoidal embedding of t/T and optional Fourier input features.',
  options: mlpOptions,
  estimateMemory: (options, ctx) => {
    const D = (ctx.dataShape ?? [1]).reduce((a, b) => a * b, 1);
    // Per row: embedding, features, and per block about five width-sized buffers (pre/post activation, residual).
    const perRow = options.timeEmbedding + D * (1 + 2 * options.inputEmbedding) + options.width * (2 + 5 * options.depth) + D;
    const forwardRow = options.timeEmbedding + D * (1 + 2 * options.inputEmbedding) + 3 * options.width + D;
    return networkEstimate(mlpParameterCount(D, options), perRow, ctx, 'width', forwardRow);
  },
  create: (options) => ({
    name: 'mlp',
    trainable: true,
    build: (ctx) => buildMlp(options, ctx),
    load: (artifacts, ctx) => loadMlp(artifacts, ctx),
  }),
});
