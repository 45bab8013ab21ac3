/**
 * `unet`: a small U-Net for images [H, W, C] (Ronneberger et al. 2015, as used for diffusion by
 * Ho et al. 2020, App. B): residual conv blocks whose first conv output gets a projection of the
 * time embedding added, 2× average-pool downsampling, nearest 2× upsampling, and one skip
 * connection per level concatenated on the way up. By default there is no normalisation and no
 * attention (the original, smallest net); `norm: group` adds GroupNorm before every conv of a
 * residual block and before the output conv, as DDPM does, and `attention: true` adds a
 * self-attention block after every residual block at the lowest resolution (Ho et al. 2020,
 * App. B). Both are custom tfjs-layers layers (`registerDenoiserLayers`), so checkpoints still
 * load as LayersModels.
 *
 * The network is written once, generically over an {@link Ops} interface, and run three ways:
 * on shapes (to list and initialise weights), on raw tfjs ops (training and sampling), and on
 * tfjs-layers symbolic tensors (to save a real LayersModel), so the three cannot drift apart.
 */
import { type DenoiserBuildContext, type DenoiserModel, definePlugin, type ModelArtifacts, PluginError, type Rng, type UnetDescription, z } from '@diffusionlab/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  ACTIVATIONS,
  type ActivationName,
  activate,
  addClassEmbedding,
  checkLoadedShape,
  classEmbedding,
  classEmbeddingShape,
  classEmbeddingVariable,
  LAYERS_ACTIVATION,
  readMeta,
  restoreCheckpoint,
  saveAsLayersModel,
  torchConvInit,
  torchLinearInit,
  uniquePrefix,
  WeightStore,
} from './common.js';
import { PixelAttentionLayer, pixelAttention } from './attention.js';
import { registerDenoiserLayers, TimeEmbeddingLayer, timeEmbedding } from './embeddings.js';
import { GroupNormLayer, groupNorm } from './group-norm.js';

/** Options of `unet`. */
export const unetOptions = z
  .object({
    channels: z.number().int().min(1).max(1024).default(32).describe('Base channel count C; level l has C·channelMultipliers[l] channels.'),
    channelMultipliers: z
      .array(z.number().int().min(1).max(64))
      .min(1)
      .max(6)
      .default([1, 2])
      .describe('Channel multiplier per resolution level; one 2× downsampling between consecutive levels (H and W must divide by 2^(levels−1)).'),
    blocksPerLevel: z.number().int().min(1).max(8).default(1).describe('Residual blocks per level, on the way down and on the way up.'),
    timeEmbedding: z
      .number()
      .int()
      .min(2)
      .max(4096)
      .refine((v) => v % 2 === 0, { message: 'timeEmbedding must be even (half sines, half cosines)' })
      .default(32)
      .describe('Dimension of the sinusoidal embedding of t/T (even); it is projected to 4·C features shared by all blocks.'),
    activation: z
      .enum(ACTIVATIONS as unknown as [ActivationName, ...ActivationName[]])
      .default('silu')
      .describe('Nonlinearity: silu, gelu, relu or tanh.'),
    norm: z
      .enum(['none', 'group'])
      .default('none')
      .describe(
        'Normalisation before each conv of a residual block, before the output conv and inside attention blocks: none (the original unet) or group (GroupNorm, Wu & He 2018, as in DDPM).',
      ),
    groups: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(8)
      .describe('GroupNorm groups when norm is group; must divide every normalised channel count (C·multiplier and the skip concatenations).'),
    attention: z
      .boolean()
      .default(false)
      .describe(
        'Self-attention block (GroupNorm if norm is group, 1×1 convs to Q, K, V, softmax(QKᵀ/√d)V, 1×1 conv, residual add) after every residual block at the lowest resolution.',
      ),
    attentionHeads: z.number().int().min(1).max(64).default(1).describe("Attention heads when attention is on; must divide the lowest level's channel count."),
  })
  .strict();

/** Parsed `unet` options. */
export type UnetOptions = z.output<typeof unetOptions>;

/** The operations the network is written in; T is a shape record, a tensor, or a symbolic tensor. */
interface Ops<T> {
  channels(x: T): number;
  conv(x: T, name: string, k: number, cout: number): T;
  dense(x: T, name: string, units: number): T;
  act(x: T): T;
  add(a: T, b: T): T;
  /** h [n, H, W, c] + p [n, c] broadcast over pixels. */
  addTime(h: T, p: T): T;
  concat(a: T, b: T): T;
  down(x: T): T;
  up(x: T): T;
  /** GroupNorm of x with weights `${name}/gamma`, `${name}/beta` (groups from the options). */
  norm(x: T, name: string): T;
  /** Weightless attention core: q, k, v [n, H, W, C] → [n, H, W, C]. */
  attend(q: T, k: T, v: T, name: string): T;
}

/** x, normalised when the options ask for a norm (and untouched otherwise, so the default net is the original). */
function maybeNorm<T>(ops: Ops<T>, x: T, name: string, o: UnetOptions): T {
  return o.norm === 'group' ? ops.norm(x, name) : x;
}

function resBlock<T>(ops: Ops<T>, x: T, e: T, name: string, cout: number, o: UnetOptions): T {
  let h = ops.conv(ops.act(maybeNorm(ops, x, `${name}_norm_0`, o)), `${name}_conv_0`, 3, cout);
  h = ops.addTime(h, ops.dense(e, `${name}_time`, cout));
  h = ops.conv(ops.act(maybeNorm(ops, h, `${name}_norm_1`, o)), `${name}_conv_1`, 3, cout);
  const skip = ops.channels(x) === cout ? x : ops.conv(x, `${name}_skip`, 1, cout);
  return ops.add(skip, h);
}

/**
 * DDPM's attention block: x + proj(attention(qkv(norm(x)))). DDPM starts proj near zero; here it has
 * PyTorch's default init like every other layer, so every weight gets a gradient from the first step.
 */
function attnBlock<T>(ops: Ops<T>, x: T, name: string, o: UnetOptions): T {
  const c = ops.channels(x);
  const h = maybeNorm(ops, x, `${name}_norm`, o);
  const [q, k, v] = (['q', 'k', 'v'] as const).map((p) => ops.conv(h, `${name}_${p}`, 1, c));
  return ops.add(x, ops.conv(ops.attend(q, k, v, `${name}_attend`), `${name}_proj`, 1, c));
}

/**
 * The U-Net body: `x` is the image, `emb` the sinusoidal time embedding [n, E], `cls` a conditional
 * model's class embedding rows [n, 4C] (added before the time activation: e = act(L_time(emb) + C[y]));
 * returns [n, H, W, cin].
 */
function unetBody<T>(ops: Ops<T>, x: T, emb: T, o: UnetOptions, cin: number, cls: T | null = null): T {
  const C = o.channels;
  const L = o.channelMultipliers.length;
  const pre = ops.dense(emb, 'time_dense', 4 * C);
  const e = ops.act(cls === null ? pre : ops.add(pre, cls));
  let h = ops.conv(x, 'in_conv', 3, C);
  const skips: T[] = [];
  // Attention only at the lowest resolution (the last level), after each of its residual blocks.
  const block = (x: T, name: string, l: number) => {
    const r = resBlock(ops, x, e, name, C * o.channelMultipliers[l], o);
    return o.attention && l === L - 1 ? attnBlock(ops, r, `${name}_attn`, o) : r;
  };
  for (let l = 0; l < L; l++) {
    for (let b = 0; b < o.blocksPerLevel; b++) h = block(h, `down_${l}_${b}`, l);
    skips.push(h);
    if (l < L - 1) h = ops.down(h);
  }
  h = block(h, 'mid', L - 1);
  for (let l = L - 1; l >= 0; l--) {
    h = ops.concat(h, skips[l]);
    for (let b = 0; b < o.blocksPerLevel; b++) h = block(h, `up_${l}_${b}`, l);
    if (l > 0) h = ops.up(h);
  }
  return ops.conv(ops.act(maybeNorm(ops, h, 'out_norm', o)), 'out_conv', 3, cin);
}

type WeightDecl = { layer: string; kind: 'conv' | 'dense' | 'norm'; k: number; cin: number; cout: number };

/** Runs the body on channel counts only, listing every weighted layer in creation order. */
function declareWeights(o: UnetOptions, cin: number): WeightDecl[] {
  const decls: WeightDecl[] = [];
  const ops: Ops<number> = {
    channels: (x) => x,
    conv: (x, layer, k, cout) => (decls.push({ layer, kind: 'conv', k, cin: x, cout }), cout),
    dense: (x, layer, units) => (decls.push({ layer, kind: 'dense', k: 1, cin: x, cout: units }), units),
    act: (x) => x,
    add: (a) => a,
    addTime: (h) => h,
    concat: (a, b) => a + b,
    down: (x) => x,
    up: (x) => x,
    norm: (x, layer) => (decls.push({ layer, kind: 'norm', k: 1, cin: x, cout: x }), x),
    attend: (q) => q,
  };
  unetBody(ops, cin, o.timeEmbedding, o, cin);
  return decls;
}

function weightShapes(decls: WeightDecl[]): [string, number[]][] {
  return decls.flatMap((d): [string, number[]][] =>
    d.kind === 'norm'
      ? [
          [`${d.layer}/gamma`, [d.cout]],
          [`${d.layer}/beta`, [d.cout]],
        ]
      : [
          [`${d.layer}/kernel`, d.kind === 'conv' ? [d.k, d.k, d.cin, d.cout] : [d.cin, d.cout]],
          [`${d.layer}/bias`, [d.cout]],
        ],
  );
}

/**
 * Trainable scalars: Σ over conv layers k²·cᵢₙ·c_out + c_out, dense layers cᵢₙ·c_out + c_out and
 * GroupNorm layers 2·c (γ and β).
 */
export function unetParameterCount(dataShape: readonly number[], o: UnetOptions): number {
  return declareWeights(o, dataShape[2]).reduce((s, d) => s + (d.kind === 'norm' ? 2 * d.cout : d.k * d.k * d.cin * d.cout + d.cout), 0);
}

function checkImageShape(shape: readonly number[], o: UnetOptions): void {
  if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new PluginError(`unet: needs image data of shape [H, W, C], got [${shape.join(', ')}]`, {
      hint: 'Use an image dataset (e.g. digits), or the mlp denoiser for vector data.',
    });
  }
  const f = 2 ** (o.channelMultipliers.length - 1);
  if (shape[0] % f !== 0 || shape[1] % f !== 0) {
    throw new PluginError(`unet: ${o.channelMultipliers.length} levels downsample by ${f}, but the image is ${shape[0]}×${shape[1]}, which ${f} does not divide`, {
      hint: `Use fewer channelMultipliers (denoiser.channelMultipliers) or an image size divisible by ${f}.`,
    });
  }
  if (o.norm === 'group') {
    const bad = declareWeights(o, shape[2]).find((d) => d.kind === 'norm' && d.cout % o.groups !== 0);
    if (bad) {
      throw new PluginError(`unet: denoiser.groups = ${o.groups} does not divide the ${bad.cout} channels that GroupNorm layer ${bad.layer} normalises`, {
        hint: 'Choose denoiser.groups dividing denoiser.channels and every channel count C·multiplier (and their skip concatenations), e.g. a power of 2 no larger than channels.',
      });
    }
  }
  const lowest = o.channels * o.channelMultipliers[o.channelMultipliers.length - 1];
  if (o.attention && lowest % o.attentionHeads !== 0) {
    throw new PluginError(`unet: denoiser.attentionHeads = ${o.attentionHeads} does not divide the ${lowest} channels at the lowest resolution, where attention runs`, {
      hint: `Choose denoiser.attentionHeads dividing ${lowest}.`,
    });
  }
}

/**
 * Filter gradient of a stride-1 'same' convolution, computed as another convolution:
 * dW[i, j, cᵢ, cₒ] = Σ_{n,h,w} x̃[n, h+i, w+j, cᵢ]·g[n, h, w, cₒ], i.e. x transposed to
 * [cᵢ, H, W, n] convolved ('valid', zero-padded by the kernel radius) with g transposed to
 * [H, W, n, cₒ] as the filter. The tfjs cpu backend's own Conv2DBackpropFilter kernel is a naive
 * loop, ~80× slower than this at 32 channels on 14×14 images (measured: 26 s vs 0.33 s, batch 32).
 */
export function conv2dFilterGrad(x: tf.Tensor4D, g: tf.Tensor4D, kh: number, kw: number): tf.Tensor4D {
  return tf.tidy(() => {
    const ph = (kh - 1) / 2;
    const pw = (kw - 1) / 2;
    const out = tf.conv2d(tf.transpose(x, [3, 1, 2, 0]), tf.transpose(g, [1, 2, 0, 3]), 1, [
      [0, 0],
      [ph, ph],
      [pw, pw],
      [0, 0],
    ]);
    return tf.transpose(out, [1, 2, 0, 3]);
  });
}

/**
 * conv2d(x, w, stride 1, 'same') for odd kernels, with the same forward op as tfjs (and Keras
 * Conv2D) but a fast gradient: dx by tfjs's transposed convolution, dW by {@link conv2dFilterGrad}.
 */
export const conv2dSame = tf.customGrad((x, w, save) => {
  const xx = x as tf.Tensor4D;
  const ww = w as tf.Tensor4D;
  (save as tf.GradSaveFunc)([xx, ww]);
  return {
    value: tf.conv2d(xx, ww, 1, 'same'),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D];
      const g = dy as tf.Tensor4D;
      return [tf.conv2dTranspose(g, sw, sx.shape, 1, 'same'), conv2dFilterGrad(sx, g, sw.shape[0], sw.shape[1])];
    },
  };
}) as (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

function rawOps(store: WeightStore, o: UnetOptions): Ops<tf.Tensor> {
  const activation = o.activation;
  return {
    channels: (x) => x.shape[x.rank - 1],
    conv: (x, name, _k, _cout) => tf.add(conv2dSame(x as tf.Tensor4D, store.get(`${name}/kernel`) as tf.Tensor4D), store.get(`${name}/bias`)),
    dense: (x, name) => tf.add(tf.matMul(x as tf.Tensor2D, store.get(`${name}/kernel`) as tf.Tensor2D), store.get(`${name}/bias`)),
    act: (x) => activate(activation, x),
    add: (a, b) => tf.add(a, b),
    addTime: (h, p) => tf.add(h, tf.reshape(p, [p.shape[0], 1, 1, p.shape[1] as number])),
    concat: (a, b) => tf.concat([a, b], 3),
    down: (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'),
    up: (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [(x.shape[1] as number) * 2, (x.shape[2] as number) * 2]),
    norm: (x, name) => groupNorm(x, store.get(`${name}/gamma`), store.get(`${name}/beta`), o.groups),
    attend: (q, k, v) => pixelAttention(q, k, v, o.attentionHeads),
  };
}

function layersOps(o: UnetOptions): Ops<tfl.SymbolicTensor> {
  const activation = o.activation;
  let k = 0;
  const id = (what: string) => `${what}_${k++}`;
  const act = LAYERS_ACTIVATION[activation] as never;
  const ap = (l: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => l.apply(x) as tfl.SymbolicTensor;
  return {
    channels: (x) => x.shape[x.shape.length - 1] as number,
    conv: (x, name, size, cout) => ap(tfl.layers.conv2d({ filters: cout, kernelSize: size, padding: 'same', name }), x),
    dense: (x, name, units) => ap(tfl.layers.dense({ units, name }), x),
    act: (x) => ap(tfl.layers.activation({ activation: act, name: id('act') }), x),
    add: (a, b) => ap(tfl.layers.add({ name: id('add') }), [a, b]),
    addTime: (h, p) => {
      const c = p.shape[1] as number;
      const r = ap(tfl.layers.reshape({ targetShape: [1, 1, c], name: id('time_reshape') }), p);
      return ap(tfl.layers.add({ name: id('add_time') }), [h, r]);
    },
    concat: (a, b) => ap(tfl.layers.concatenate({ axis: -1, name: id('concat') }), [a, b]),
    down: (x) => ap(tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: id('down') }), x),
    up: (x) => ap(tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: id('up') }), x),
    norm: (x, name) => ap(new GroupNormLayer({ name, groups: o.groups }), x),
    attend: (q, k, v, name) => ap(new PixelAttentionLayer({ name, heads: o.attentionHeads }), [q, k, v]),
  };
}

function buildLayersGraph(shape: readonly number[], o: UnetOptions, T: number, classes: number): tfl.LayersModel {
  registerDenoiserLayers();
  const x = tfl.input({ shape: [...shape], name: 'x' });
  const t = tfl.input({ shape: [1], name: 't' });
  const emb = new TimeEmbeddingLayer({ name: 'time_embedding', dim: o.timeEmbedding, numTrainTimesteps: T }).apply(t) as tfl.SymbolicTensor;
  if (classes === 0) return tfl.model({ inputs: [x, t], outputs: unetBody(layersOps(o), x, emb, o, shape[2]), name: 'unet' });
  const y = tfl.input({ shape: [1], name: 'class', dtype: 'int32' });
  const rows = tfl.layers.embedding({ inputDim: classes + 1, outputDim: 4 * o.channels, name: 'class_embedding' }).apply(y) as tfl.SymbolicTensor;
  const cls = tfl.layers.flatten({ name: 'class_flatten' }).apply(rows) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [x, t, y], outputs: unetBody(layersOps(o), x, emb, o, shape[2], cls), name: 'unet' });
}

function initWeights(store: WeightStore, decls: WeightDecl[], rng: Rng): void {
  for (const d of decls) {
    if (d.kind === 'norm') {
      // γ = 1, β = 0 (Wu & He 2018; PyTorch's default): no draws, so the other layers' draws are unchanged.
      store.add(`${d.layer}/gamma`, new Float32Array(d.cout).fill(1), [d.cout]);
      store.add(`${d.layer}/beta`, new Float32Array(d.cout), [d.cout]);
    } else if (d.kind === 'conv') {
      const { kernel, bias } = torchConvInit(rng, d.k, d.k, d.cin, d.cout);
      store.add(`${d.layer}/kernel`, kernel, [d.k, d.k, d.cin, d.cout]);
      store.add(`${d.layer}/bias`, bias, [d.cout]);
    } else {
      const { kernel, bias } = torchLinearInit(rng, d.cin, d.cout);
      store.add(`${d.layer}/kernel`, kernel, [d.cin, d.cout]);
      store.add(`${d.layer}/bias`, bias, [d.cout]);
    }
  }
}

function makeModel(store: WeightStore, shape: readonly number[], o: UnetOptions, T: number, labelNames?: readonly string[]): DenoiserModel {
  const ops = rawOps(store, o);
  const lowest = `${shape[0] / 2 ** (o.channelMultipliers.length - 1)}×${shape[1] / 2 ** (o.channelMultipliers.length - 1)}`;
  const K = labelNames?.length ?? 0;
  return {
    architecture:
      `unet: ${shape.join('×')} input, channels ${o.channels}×[${o.channelMultipliers.join(', ')}], ` +
      `${o.blocksPerLevel} residual block(s) per level, ${o.activation}, sinusoidal t/T embedding ${o.timeEmbedding}` +
      (o.norm === 'group' ? `, GroupNorm (${o.groups} groups)` : '') +
      (o.attention ? `, ${o.attentionHeads}-head self-attention at ${lowest}` : '') +
      (K > 0 ? `, class embedding (${K} classes + null)` : ''),
    ...(labelNames ? { labelNames: [...labelNames] } : {}),
    variables: store.variables,
    get parameterCount() {
      return store.parameterCount;
    },
    predict(xt: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor): tf.Tensor {
      return tf.tidy(() => {
        const n = xt.shape[0];
        const x = tf.reshape(xt, [n, ...shape]);
        const cls = K > 0 ? classEmbedding(store, labels, n, K) : null;
        return tf.reshape(unetBody(ops, x, timeEmbedding(t, o.timeEmbedding, T), o, shape[2], cls), xt.shape);
      });
    },
    describe(): UnetDescription {
      // every option is spread in, so a fast path sees (and declines) options it does not know
      // a GroupNorm layer's γ and β stand as its kernel and bias, so `layers` keeps model.variables' order
      const layers = declareWeights(o, shape[2]).map(({ layer, kind }) =>
        kind === 'norm'
          ? { name: layer, kernel: store.get(`${layer}/gamma`), bias: store.get(`${layer}/beta`) }
          : { name: layer, kernel: store.get(`${layer}/kernel`), bias: store.get(`${layer}/bias`) },
      );
      const cls = K > 0 ? { classEmbedding: classEmbeddingVariable(store) } : {};
      return { ...o, kind: 'unet', channelMultipliers: [...o.channelMultipliers], dataShape: [...shape], numTrainTimesteps: T, layers, ...cls };
    },
    save(): Promise<ModelArtifacts> {
      return saveAsLayersModel(store, () => buildLayersGraph(shape, o, T, K), {
        denoiser: 'unet',
        formatVersion: 1,
        options: { ...o, channelMultipliers: [...o.channelMultipliers] },
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

/** Builds a freshly initialised U-Net (PyTorch default conv/linear init from ctx.rng). */
export function buildUnet(options: UnetOptions, ctx: DenoiserBuildContext): DenoiserModel {
  checkImageShape(ctx.dataShape, options);
  registerDenoiserLayers();
  const store = new WeightStore(uniquePrefix('unet', 'time_dense/kernel'));
  initWeights(store, declareWeights(options, ctx.dataShape[2]), ctx.rng);
  if (ctx.labelNames) addClassEmbedding(store, ctx.rng, ctx.labelNames.length, 4 * options.channels);
  return makeModel(store, ctx.dataShape, options, ctx.schedule.numTrainTimesteps, ctx.labelNames);
}

/** Rebuilds a saved U-Net from its checkpoint's options, shape and T. */
export function loadUnet(artifacts: ModelArtifacts, ctx: DenoiserBuildContext): DenoiserModel {
  registerDenoiserLayers();
  const meta = readMeta(artifacts, 'unet');
  const options = unetOptions.parse(meta.options);
  const shape = checkLoadedShape(meta, ctx, 'unet');
  checkImageShape(shape, options);
  const store = new WeightStore(uniquePrefix('unet', 'time_dense/kernel'));
  const classes = meta.labelNames ? classEmbeddingShape(meta.labelNames.length, 4 * options.channels) : [];
  restoreCheckpoint(store, artifacts, [...weightShapes(declareWeights(options, shape[2])), ...classes]);
  return makeModel(store, shape, options, meta.numTrainTimesteps, meta.labelNames);
}

/** The `unet` plugin: a convolutional denoiser for small images (e.g. 14×14 digits on CPU). */
export const unetDenoiser = definePlugin({
  kind: 'denoiser',
  name: 'unet',
  description: 'Small U-Net for [H, W, C] images: residual conv blocks with time embedding, avg-pool down, nearest up, skip connections.',
  options: unetOptions,
  create: (options) => ({
    name: 'unet',
    trainable: true,
    build: (ctx) => buildUnet(options, ctx),
    load: (artifacts, ctx) => loadUnet(artifacts, ctx),
  }),
});
