/**
 * Every built-in denoiser passes the shared denoiser conformance suite of @diffusionlab/testkit
 * (shapes, no tensor leaks, seeded initialisation, save → load → predict bit-identical, gradients),
 * at small sizes so the suite stays fast.
 */
import type { Dataset, DenoiserBuildContext } from '@diffusionlab/core';
import { type DenoiserConformanceOptions, denoiserConformance } from '@diffusionlab/testkit';
import { describe, expect, it } from 'vitest';
import { plugins } from './index.js';

const mixtureDataset = (shape: readonly number[]): Dataset => {
  const D = shape.reduce((a, b) => a * b, 1);
  return {
    name: 'fixture-mixture',
    shape,
    info: { mixture: { weights: [0.3, 0.7], means: [new Array(D).fill(-1), new Array(D).fill(2)], stds: [new Array(D).fill(0.5), new Array(D).fill(0.8)] } },
    load: () => ({ data: new Float32Array(0), count: 0 }),
    reference: () => new Float32Array(0),
  };
};
const trainingSet = (shape: readonly number[]): Partial<DenoiserBuildContext> => {
  const D = shape.reduce((a, b) => a * b, 1);
  const count = 16;
  return { trainingSet: { data: Float32Array.from({ length: count * D }, (_, i) => Math.sin(i * 1.7) * 2), count } };
};

/** The settings each built-in plugin is tested with; every plugin must have an entry. */
const settings: Record<string, DenoiserConformanceOptions> = {
  'seed-mlp': { optionsList: [{ hidden: 8 }], shapes: [[1], [2, 3, 1]], layersModel: true, invalid: [{ options: { hidden: 0 }, path: 'denoiser.hidden' }] },
  oracle: {
    optionsList: [{}, { source: 'training-set' }],
    shapes: [[2]],
    context: (shape) => ({ dataset: mixtureDataset(shape), ...trainingSet(shape) }),
    invalid: [{ options: { source: 'exact' }, path: 'denoiser.source' }],
  },
  mlp: {
    optionsList: [
      { width: 8, depth: 2, timeEmbedding: 6 },
      { width: 8, depth: 1, timeEmbedding: 4, inputEmbedding: 2, activation: 'tanh' },
    ],
    shapes: [[2], [3, 2, 1]],
    layersModel: true,
    invalid: [
      { options: { timeEmbedding: 7 }, path: 'denoiser.timeEmbedding' },
      { options: { activation: 'swish' }, path: 'denoiser.activation' },
    ],
  },
  unet: {
    optionsList: [
      { channels: 2, channelMultipliers: [1, 2], timeEmbedding: 4 },
      { channels: 4, channelMultipliers: [1, 2], timeEmbedding: 4, norm: 'group', groups: 2, attention: true, attentionHeads: 2 },
    ],
    shapes: [[4, 4, 1]],
    layersModel: true,
    invalid: [
      { options: { channelMultipliers: [] }, path: 'denoiser.channelMultipliers' },
      { options: { norm: 'layer' }, path: 'denoiser.norm' },
      { options: { attentionHeads: 0 }, path: 'denoiser.attentionHeads' },
    ],
  },
};

describe('built-in denoisers', () => {
  it('each has conformance settings', () => {
    expect(plugins.map((p) => p.name).filter((name) => !(name in settings))).toEqual([]);
  });
});

for (const plugin of plugins) if (settings[plugin.name]) denoiserConformance(plugin, settings[plugin.name]);
