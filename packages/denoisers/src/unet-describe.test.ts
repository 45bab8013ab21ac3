import '@tensorflow/tfjs-backend-cpu';
import { denoiserContext } from '@diffusionlab/testkit';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildUnet, unetOptions } from './unet.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('unet describe()', () => {
  it('lists every layer in variable order, with every option and the shape', () => {
    const o = unetOptions.parse({ channels: 2, channelMultipliers: [1, 2], timeEmbedding: 4, activation: 'gelu' });
    const m = buildUnet(o, denoiserContext([4, 4, 1]));
    const d = m.describe?.();
    if (d?.kind !== 'unet') throw new Error('expected a unet description');
    // each option the plugin parsed appears as a field, so a fast path can decline unknown ones
    for (const [key, value] of Object.entries(o)) expect(d[key as keyof typeof d]).toEqual(value);
    expect(d.dataShape).toEqual([4, 4, 1]);
    expect(d.numTrainTimesteps).toBe(100);
    expect(d.layers.flatMap((l) => [l.kernel, l.bias])).toEqual(m.variables);
    // creation order of the body: time, in, down_0 (2→2, no skip), down_1 (2→4, skip), mid, up_1, up_0, out
    expect(d.layers.map((l) => l.name)).toEqual([
      'time_dense',
      'in_conv',
      'down_0_0_conv_0',
      'down_0_0_time',
      'down_0_0_conv_1',
      'down_1_0_conv_0',
      'down_1_0_time',
      'down_1_0_conv_1',
      'down_1_0_skip',
      'mid_conv_0',
      'mid_time',
      'mid_conv_1',
      'up_1_0_conv_0',
      'up_1_0_time',
      'up_1_0_conv_1',
      'up_1_0_skip',
      'up_0_0_conv_0',
      'up_0_0_time',
      'up_0_0_conv_1',
      'up_0_0_skip',
      'out_conv',
    ]);
    m.dispose();
  });

  it('describes a GroupNorm and attention U-Net too: its γ and β stand as kernel and bias, still in variable order', () => {
    const o = unetOptions.parse({ channels: 2, channelMultipliers: [1, 2], timeEmbedding: 4, norm: 'group', groups: 2, attention: true });
    const m = buildUnet(o, denoiserContext([4, 4, 1]));
    const d = m.describe?.();
    if (d?.kind !== 'unet') throw new Error('expected a unet description');
    expect(d.norm).toBe('group');
    expect(d.attention).toBe(true);
    expect(d.layers.flatMap((l) => [l.kernel, l.bias])).toEqual(m.variables);
    expect(d.layers.map((l) => l.name)).toContain('down_0_0_norm_0');
    m.dispose();
  });
});
