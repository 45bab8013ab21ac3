/**
 * @diffusionlab/denoisers: denoiser plugins for diffusionlab — the reference `seed-mlp`, the exact
 * `oracle`, a residual `mlp` with time embedding, and a small `unet` for images. Trainable models
 * run on raw tfjs ops and save as standard tfjs LayersModels.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { mlpDenoiser } from './mlp.js';
import { oracleDenoiser } from './oracle.js';
import { seedMlpDenoiser } from './seed-mlp.js';
import { unetDenoiser } from './unet.js';

export { PixelAttentionLayer, pixelAttention } from './attention.js';
export { ACTIVATIONS, type ActivationName, torchConvInit, torchLinearInit } from './common.js';
export { FourierFeaturesLayer, fourierFeatures, registerDenoiserLayers, TimeEmbeddingLayer, timeEmbedding } from './embeddings.js';
export { GROUP_NORM_EPSILON, GroupNormLayer, groupNorm } from './group-norm.js';
export { buildMlp, loadMlp, type MlpOptions, mlpOptions, mlpParameterCount, mlpDenoiser } from './mlp.js';
export { buildOracle, finiteSetPosteriorMean, loadOracle, mixturePosteriorMean, type OracleOptions, oracleOptions, oracleDenoiser } from './oracle.js';
export { buildSeedMlp, loadSeedMlp, type SeedMlpOptions, seedMlpOptions, seedMlpParameterCount, seedMlpDenoiser } from './seed-mlp.js';
export { buildUnet, conv2dFilterGrad, conv2dSame, loadUnet, type UnetOptions, unetOptions, unetParameterCount, unetDenoiser } from './unet.js';

export * from './deprecated.js';

/** Every denoiser plugin in this package, for the runner's explicit registry. */
export const plugins: AnyPluginDefinition[] = [seedMlpDenoiser, oracleDenoiser, mlpDenoiser, unetDenoiser];
