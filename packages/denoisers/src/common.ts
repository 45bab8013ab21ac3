/**
 * Shared plumbing for the trainable denoisers: PyTorch-compatible weight init, uniquely prefixed
 * variables with stable suffixes, raw-op building blocks, and conversion to and from tfjs
 * LayersModel artifacts (so a checkpoint loads with `tf.loadLayersModel` in a browser).
 */
import { PluginError, type ModelArtifacts, type Rng } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** Activation names the trainable denoisers accept; silu is tfjs-layers' `swish` (x·σ(x)). */
export type ActivationName = 'silu' | 'gelu' | 'relu' | 'tanh';

/** The activations, for option schemas and errors. */
export const ACTIVATIONS: readonly ActivationName[] = ['silu', 'gelu', 'relu', 'tanh'];

/** tfjs-layers' identifier for each activation, so the saved topology computes the same function. */
export const LAYERS_ACTIVATION: Record<ActivationName, string> = { silu: 'swish', gelu: 'gelu', relu: 'relu', tanh: 'tanh' };

/**
 * Applies an activation with the same op sequence as tfjs-layers (swish = σ(x)·x, gelu = x·½(1+erf(x/√2))),
 * so our raw-op forward pass and the saved LayersModel agree to float rounding.
 */
export function activate(name: ActivationName, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'silu':
      return tf.mul(tf.sigmoid(x), x);
    case 'gelu':
      return tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))));
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
  }
}

/**
 * Draws a dense layer's weights exactly as PyTorch's `nn.Linear.reset_parameters` distributes them:
 * kaiming_uniform(a=√5) gives W ~ U(−1/√fan_in, 1/√fan_in), and b ~ U(−1/√fan_in, 1/√fan_in).
 * Draws follow PyTorch's order (W row-major as [out, in], then b); the kernel is stored
 * transposed, [in, out], which is the Keras layout.
 */
export function torchLinearInit(rng: Rng, fanIn: number, fanOut: number): { kernel: Float32Array; bias: Float32Array } {
  const bound = 1 / Math.sqrt(fanIn);
  const kernel = new Float32Array(fanIn * fanOut);
  for (let o = 0; o < fanOut; o++) for (let i = 0; i < fanIn; i++) kernel[i * fanOut + o] = (2 * rng.uniform() - 1) * bound;
  const bias = new Float32Array(fanOut);
  for (let o = 0; o < fanOut; o++) bias[o] = (2 * rng.uniform() - 1) * bound;
  return { kernel, bias };
}

/**
 * The same PyTorch default for a conv kernel [kh, kw, in, out] (fan_in = kh·kw·in); draws in
 * PyTorch's [out, in, kh, kw] order, stored in Keras's [kh, kw, in, out] layout.
 */
export function torchConvInit(rng: Rng, kh: number, kw: number, cin: number, cout: number): { kernel: Float32Array; bias: Float32Array } {
  const fanIn = kh * kw * cin;
  const bound = 1 / Math.sqrt(fanIn);
  const kernel = new Float32Array(fanIn * cout);
  for (let o = 0; o < cout; o++)
    for (let c = 0; c < cin; c++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) kernel[((y * kw + x) * cin + c) * cout + o] = (2 * rng.uniform() - 1) * bound;
  const bias = new Float32Array(cout);
  for (let o = 0; o < cout; o++) bias[o] = (2 * rng.uniform() - 1) * bound;
  return { kernel, bias };
}

/**
 * A variable prefix that no live variable uses: `base` itself when free (so the first model in a
 * process has the plain names `seed-mlp/dense_0/kernel`), else `base_2`, `base_3`, … . tfjs
 * refuses two live variables with one name, and the part after the prefix (the Keras weight name)
 * stays stable across builds, saves and loads.
 */
export function uniquePrefix(base: string, firstWeight: string): string {
  const registered = tf.engine().registeredVariables;
  if (registered[`${base}/${firstWeight}`] === undefined) return base;
  for (let k = 2; ; k++) if (registered[`${base}_${k}/${firstWeight}`] === undefined) return `${base}_${k}`;
}

/** A model's weights keyed by their Keras weight names (`dense_0/kernel`), in creation order. */
export class WeightStore {
  readonly variables: tf.Variable[] = [];
  private readonly byName = new Map<string, tf.Variable>();

  /** `prefix` comes from {@link uniquePrefix}, so variables of live models never collide. */
  constructor(readonly prefix: string) {}

  /** Creates one trainable variable named `${prefix}/${name}` from plain values. */
  add(name: string, values: Float32Array, shape: number[]): tf.Variable {
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true, `${this.prefix}/${name}`));
    this.variables.push(v);
    this.byName.set(name, v);
    return v;
  }

  /** The variable for a Keras weight name; a missing name is a bug in the architecture code. */
  get(name: string): tf.Variable {
    const v = this.byName.get(name);
    if (!v) throw new Error(`internal: no weight ${name}`);
    return v;
  }

  /** Keras weight names in creation order (what a checkpoint must contain). */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Trainable scalars across all variables. */
  get parameterCount(): number {
    return this.variables.reduce((s, v) => s + v.size, 0);
  }

  /** Frees every variable (the model is unusable afterwards). */
  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.variables.length = 0;
    this.byName.clear();
  }
}

/** A dense layer on raw ops: x·W + b with W [in, out] (Keras layout). Differentiable w.r.t. W and b. */
export function dense(x: tf.Tensor, w: WeightStore, layer: string): tf.Tensor2D {
  return tf.add(tf.matMul(x as tf.Tensor2D, w.get(`${layer}/kernel`) as tf.Tensor2D), w.get(`${layer}/bias`)) as tf.Tensor2D;
}

/** Adds a dense layer's weights, PyTorch-initialised from `rng`. */
export function addDense(w: WeightStore, rng: Rng, layer: string, fanIn: number, fanOut: number): void {
  const { kernel, bias } = torchLinearInit(rng, fanIn, fanOut);
  w.add(`${layer}/kernel`, kernel, [fanIn, fanOut]);
  w.add(`${layer}/bias`, bias, [fanOut]);
}

/** What every checkpoint carries in `userDefinedMetadata.diffusionlab`, so `load` rebuilds the same model. */
export interface CheckpointMeta {
  denoiser: string;
  formatVersion: 1;
  options: Record<string, unknown>;
  dataShape: number[];
  numTrainTimesteps: number;
  /** The classes of a class-conditional model (its class embedding has one more row, the null class); absent when unconditional. */
  labelNames?: string[];
}

/**
 * Saves our weights as a real tfjs LayersModel: `buildLayers` makes the equivalent Keras graph
 * (same layer and weight names), our values are written into it, it is serialised with its
 * topology, and then disposed. The artifacts load with `tf.loadLayersModel(tf.io.fromMemory(a))`.
 */
export async function saveAsLayersModel(weights: WeightStore, buildLayers: () => tfl.LayersModel, meta: CheckpointMeta): Promise<ModelArtifacts> {
  const model = buildLayers();
  try {
    const used = new Set<string>();
    for (const lw of model.weights) {
      const ours = weights.get(lw.originalName);
      if (ours.shape.join(',') !== lw.shape.join(',')) {
        throw new Error(`internal: weight ${lw.originalName} has shape [${ours.shape}] but the layers graph expects [${lw.shape}]`);
      }
      lw.write(ours);
      used.add(lw.originalName);
    }
    const missing = weights.names().filter((n) => !used.has(n));
    if (missing.length > 0) throw new Error(`internal: weights missing from the layers graph: ${missing.join(', ')}`);
    model.setUserDefinedMetadata({ diffusionlab: meta });
    let out: ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        out = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (!out) throw new Error('internal: save handler was not called');
    return out;
  } finally {
    model.dispose();
  }
}

/** Reads and checks our metadata from artifacts; the error says what was expected. */
export function readMeta(artifacts: ModelArtifacts, expected: string): CheckpointMeta {
  const meta = (artifacts.userDefinedMetadata as { diffusionlab?: CheckpointMeta } | undefined)?.diffusionlab;
  if (!meta || typeof meta !== 'object') {
    throw new PluginError(`checkpoint has no diffusionlab metadata, so the ${expected} denoiser cannot rebuild it`, {
      hint: 'Load a checkpoint written by a diffusionlab denoiser save().',
    });
  }
  if (meta.denoiser !== expected) {
    throw new PluginError(`checkpoint was written by the "${meta.denoiser}" denoiser, not "${expected}"`, {
      hint: `Set denoiser.use=${meta.denoiser} to load it.`,
    });
  }
  return meta;
}

/** Decodes the weight values of artifacts by Keras weight name (plain arrays; no tensors left behind). */
export function readWeights(artifacts: ModelArtifacts): Map<string, { values: Float32Array; shape: number[] }> {
  const out = new Map<string, { values: Float32Array; shape: number[] }>();
  if (!artifacts.weightSpecs || artifacts.weightData === undefined) return out;
  const named = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  for (const [name, t] of Object.entries(named)) {
    out.set(name, { values: t.dataSync().slice() as Float32Array, shape: t.shape.slice() });
    t.dispose();
  }
  return out;
}

/**
 * Fills a fresh store with the weights named in `expected` (name → shape), from a checkpoint;
 * a missing or mis-shaped weight is an error naming it.
 */
export function restoreWeights(store: WeightStore, saved: ReturnType<typeof readWeights>, expected: [string, number[]][]): void {
  for (const [name, shape] of expected) {
    const s = saved.get(name);
    if (!s) throw new PluginError(`checkpoint lacks weight "${name}"`, { hint: 'The checkpoint does not match this denoiser; was it edited?' });
    if (s.shape.join(',') !== shape.join(',')) {
      throw new PluginError(`checkpoint weight "${name}" has shape [${s.shape}], expected [${shape}]`);
    }
    store.add(name, s.values, shape);
  }
}

/** Product of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Checks a data shape is a non-empty list of positive integers. */
export function checkShape(shape: readonly number[], who: string): void {
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new PluginError(`${who}: data shape must be positive integers, got [${shape.join(', ')}]`);
  }
}

/** The checkpoint's data shape, after checking it matches the experiment's (a mismatch is an error, not a silent reshape). */
export function checkLoadedShape(meta: CheckpointMeta, ctx: { dataShape: readonly number[] }, who: string): number[] {
  const shape = meta.dataShape;
  if (ctx.dataShape.length > 0 && ctx.dataShape.join(',') !== shape.join(',')) {
    throw new PluginError(`${who}: checkpoint was trained on data of shape [${shape.join(', ')}], but this experiment's data has shape [${ctx.dataShape.join(', ')}]`, {
      hint: 'Use the dataset the checkpoint was trained on.',
    });
  }
  return [...shape];
}

/** `[name, in, out]` dense layers as the `name/kernel` [in, out] and `name/bias` [out] shapes a checkpoint must hold. */
export function denseWeightShapes(layers: readonly (readonly [string, number, number])[]): [string, number[]][] {
  return layers.flatMap(([n, i, o]): [string, number[]][] => [
    [`${n}/kernel`, [i, o]],
    [`${n}/bias`, [o]],
  ]);
}

/** Restores a checkpoint's weights into a fresh store, disposing the store if the checkpoint does not match. */
export function restoreCheckpoint(store: WeightStore, artifacts: ModelArtifacts, expected: [string, number[]][]): WeightStore {
  try {
    restoreWeights(store, readWeights(artifacts), expected);
  } catch (e) {
    store.dispose();
    throw e;
  }
  return store;
}

/** Weight name of a conditional model's class embedding [K + 1, width] (Keras Embedding's `embeddings`). */
const CLASS_EMBEDDING = 'class_embedding/embeddings';

/**
 * Adds a learned class embedding with K + 1 rows (the last one the null class), drawn N(0, 1) as
 * PyTorch's nn.Embedding initialises it, after every other weight so the rest of the init is as
 * for the unconditional model.
 */
export function addClassEmbedding(w: WeightStore, rng: Rng, classes: number, width: number): void {
  const values = new Float32Array((classes + 1) * width);
  for (let i = 0; i < values.length; i++) values[i] = rng.normal();
  w.add(CLASS_EMBEDDING, values, [classes + 1, width]);
}

/** The class embedding variable C [K + 1, width] of a conditional model, for its `describe()` (fast paths run it). */
export function classEmbeddingVariable(w: WeightStore): tf.Variable {
  return w.get(CLASS_EMBEDDING);
}

/** The class embedding's name and shape, as a checkpoint of a conditional model must hold it. */
export function classEmbeddingShape(classes: number, width: number): [string, number[]][] {
  return [[CLASS_EMBEDDING, [classes + 1, width]]];
}

/**
 * Rows of the class embedding for `labels` ([n] int32 in [0, K]); the null class K for every row
 * when no labels are given (the unconditional prediction). Differentiable w.r.t. the embedding.
 * Taken as one-hot(labels) · C rather than a gather: the same rows exactly (every other term is
 * 0·c), and its gradient is a matMul, which every backend runs — gather's gradient needs
 * UnsortedSegmentSum, which tfjs-backend-wasm (the default backend) does not register.
 */
export function classEmbedding(w: WeightStore, labels: tf.Tensor | undefined, n: number, classes: number): tf.Tensor2D {
  return tf.tidy(() => {
    const idx = labels ? tf.cast(tf.reshape(labels, [n]), 'int32') : tf.fill([n], classes, 'int32');
    // int32 one-hot, then cast: tfjs-backend-wasm 4.22's OneHot writes a float32 output's 1 as the int bit pattern (1.4e-45).
    const oneHot = tf.cast(tf.oneHot(idx as tf.Tensor1D, classes + 1), 'float32');
    return tf.matMul(oneHot, w.get(CLASS_EMBEDDING) as tf.Tensor2D);
  });
}
