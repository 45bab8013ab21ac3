/**
 * `seed-mlp`: exactly the reference tutorial's network,
 * ε̂(xₜ, t) = L₃(SiLU(L₂(SiLU(L₁(concat(xₜ, t)))))), with t the raw integer timestep as a float
 * (no embedding, no normalisation) and PyTorch's default nn.Linear initialisation.
 */
import { type DenoiserBuildContext, type DenoiserModel, definePlugin, type ModelArtifacts, type PlainMlpDescription, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  activate,
  addDense,
  checkLoadedShape,
  checkShape,
  dense,
  readMeta,
  denseWeightShapes,
  restoreCheckpoint,
  saveAsLayersModel,
  sizeOf,
  uniquePrefix,
  WeightStore,
} from './common.js';
import { networkEstimate } from './estimate.js';

/** Options of `seed-mlp`. */
export const seedMlpOptions = z
  .object({
    hidden: z
      .number()
      .int()
      .min(1)
      .max(8192)
      .default(128)
      .describe('Width of the two hidden layers (the reference uses 128; at most 8192, so the fused WebAssembly kernel holds the model).'),
  })
  .strict();

/** Parsed `seed-mlp` options. */
export type SeedMlpOptions = z.output<typeof seedMlpOptions>;

/** Parameter count of the reference MLP: (D+1)·h + h + h·h + h + h·D + D (17,025 for D = 1, h = 128). */
export function seedMlpParameterCount(D: number, hidden: number): number {
  return (D + 1) * hidden + hidden + hidden * hidden + hidden + hidden * D + D;
}

const LAYERS = ['dense_0', 'dense_1', 'dense_2'] as const;

function layerSizes(D: number, h: number): [string, number, number][] {
  return [
    ['dense_0', D + 1, h],
    ['dense_1', h, h],
    ['dense_2', h, D],
  ];
}

/** The Keras graph with the same function: inputs x [...shape] and t [1]; outputs [...shape]. */
function buildLayersGraph(shape: readonly number[], hidden: number): tfl.LayersModel {
  const D = sizeOf(shape);
  const x = tfl.input({ shape: [...shape], name: 'x' });
  const t = tfl.input({ shape: [1], name: 't' });
  const flat = shape.length > 1 ? (tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor) : x;
  let h = tfl.layers.concatenate({ name: 'concat', axis: -1 }).apply([flat, t]) as tfl.SymbolicTensor;
  h = tfl.layers.dense({ units: hidden, activation: 'swish', name: 'dense_0' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.dense({ units: hidden, activation: 'swish', name: 'dense_1' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.dense({ units: D, activation: 'linear', name: 'dense_2' }).apply(h) as tfl.SymbolicTensor;
  if (shape.length > 1) h = tfl.layers.reshape({ targetShape: [...shape], name: 'reshape' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [x, t], outputs: h, name: 'seed_mlp' });
}

function makeModel(store: WeightStore, shape: readonly number[], options: SeedMlpOptions, T: number): DenoiserModel {
  const D = sizeOf(shape);
  const { hidden } = options;
  return {
    architecture: `seed-mlp: concat(x[${D}], raw t) → Linear(${D + 1}→${hidden}) → SiLU → Linear(${hidden}→${hidden}) → SiLU → Linear(${hidden}→${D})`,
    variables: store.variables,
    get parameterCount() {
      return store.parameterCount;
    },
    predict(xt: tf.Tensor, t: tf.Tensor): tf.Tensor {
      return tf.tidy(() => {
        const n = xt.shape[0];
        const input = tf.concat([tf.reshape(xt, [n, D]), tf.reshape(tf.cast(t, 'float32'), [n, 1])], 1);
        const h1 = activate('silu', dense(input, store, 'dense_0'));
        const h2 = activate('silu', dense(h1, store, 'dense_1'));
        return tf.reshape(dense(h2, store, 'dense_2'), xt.shape);
      });
    },
    save(): Promise<ModelArtifacts> {
      return saveAsLayersModel(store, () => buildLayersGraph(shape, hidden), {
        denoiser: 'seed-mlp',
        formatVersion: 1,
        options: { ...options },
        dataShape: [...shape],
        numTrainTimesteps: T,
      });
    },
    dispose() {
      store.dispose();
    },
    describe(): PlainMlpDescription {
      return {
        kind: 'plain-mlp',
        input: 'concat-raw-t',
        activation: 'silu',
        layers: LAYERS.map((l) => ({ kernel: store.get(`${l}/kernel`), bias: store.get(`${l}/bias`) })),
      };
    },
  };
}

/** Builds a freshly initialised reference MLP for ctx's data shape. */
export function buildSeedMlp(options: SeedMlpOptions, ctx: DenoiserBuildContext): DenoiserModel {
  checkShape(ctx.dataShape, 'seed-mlp');
  const D = sizeOf(ctx.dataShape);
  const store = new WeightStore(uniquePrefix('seed-mlp', 'dense_0/kernel'));
  for (const [name, fanIn, fanOut] of layerSizes(D, options.hidden)) addDense(store, ctx.rng, name, fanIn, fanOut);
  return makeModel(store, ctx.dataShape, options, ctx.schedule.numTrainTimesteps);
}

/** Rebuilds a saved reference MLP; the checkpoint's own options and shape win over the config's. */
export function loadSeedMlp(artifacts: ModelArtifacts, ctx: DenoiserBuildContext): DenoiserModel {
  const meta = readMeta(artifacts, 'seed-mlp');
  const options = seedMlpOptions.parse(meta.options);
  const shape = checkLoadedShape(meta, ctx, 'seed-mlp');
  const D = sizeOf(shape);
  const store = new WeightStore(uniquePrefix('seed-mlp', 'dense_0/kernel'));
  restoreCheckpoint(store, artifacts, denseWeightShapes(layerSizes(D, options.hidden)));
  return makeModel(store, shape, options, meta.numTrainTimesteps);
}

/** The `seed-mlp` plugin: the reference network, reproducible from a config. */
export const seedMlpDenoiser = definePlugin({
  kind: 'denoiser',
  name: 'seed-mlp',
  description: 'The reference tutorial MLP: concat(x, raw t) → Linear → SiLU → Linear → SiLU → Linear, PyTorch init.',
  options: seedMlpOptions,
  estimateMemory: (options, ctx) => {
    const D = (ctx.dataShape ?? [1]).reduce((a, b) => a * b, 1);
    const params = layerSizes(D, options.hidden).reduce((a, [, i, o]) => a + i * o + o, 0);
    return networkEstimate(params, 4 * options.hidden + 2 * D, ctx, 'hidden', 2 * options.hidden + 2 * D);
  },
  create: (options) => ({
    name: 'seed-mlp',
    trainable: true,
    build: (ctx) => buildSeedMlp(options, ctx),
    load: (artifacts, ctx) => loadSeedMlp(artifacts, ctx),
  }),
});
