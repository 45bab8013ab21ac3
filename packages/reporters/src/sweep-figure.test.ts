import { describe, expect, it } from 'vitest';
import { renderPng } from './render.js';
import { comparisonSpec, keyScatterSpec } from './sweep-figure.js';

type Panel = { data: { values: Record<string, unknown>[] }; spec: { encoding: { x: { title: string; type: string; scale?: { type: string } } } } };

describe('sweep figures', () => {
  it('the comparison plots each metric against NFE when the step count varies, one series per other key', () => {
    const axes = [
      { key: 'sampler.use', values: ['ddpm', 'ddim'] },
      { key: 'sampler.steps', values: ['5', '10'] },
    ];
    const rows = [
      { status: 'complete', 'sampler.use': 'ddpm', 'sampler.steps': 5, nfe: 5, w1: 1, w1NoiseFloor: 0.1 },
      { status: 'complete', 'sampler.use': 'ddim', 'sampler.steps': 10, nfe: 10, w1: 0.5 },
      { status: 'failed', 'sampler.use': 'ddim', 'sampler.steps': 5 },
    ];
    const spec = comparisonSpec(rows, axes) as unknown as { data: { values: Record<string, unknown>[] } };
    expect(spec.data.values).toEqual([
      { metric: 'w1', x: 5, value: 1, floor: 0.1, series: 'sampler.use=ddpm' },
      { metric: 'w1', x: 10, value: 0.5, floor: null, series: 'sampler.use=ddim' },
    ]);
    expect(comparisonSpec([{ status: 'failed' }], axes)).toBeNull();
  });

  it('a random search plots each metric against each swept key, log-scaled where drawn log-uniformly, and renders', async () => {
    const axes = [
      { key: 'training.learningRate', values: ['0.0002', '0.003', '0.008'] },
      { key: 'sampler.use', values: ['ddpm', 'ddim', 'ddim'] },
    ];
    const rows = [
      { status: 'complete', 'training.learningRate': 0.0002, 'sampler.use': 'ddpm', nfe: 20, w1: 0.9, modes: 2 },
      { status: 'complete', 'training.learningRate': 0.003, 'sampler.use': 'ddim', nfe: 20, w1: 0.3, modes: 2 },
      { status: 'failed', 'training.learningRate': 0.008, 'sampler.use': 'ddim' },
    ];
    const spec = keyScatterSpec(rows, axes, { 'training.learningRate': 'log' }) as unknown as { hconcat: Panel[] };
    expect(spec.hconcat).toHaveLength(2);
    const [lr, sampler] = spec.hconcat;
    expect(lr.spec.encoding.x.scale?.type).toBe('log');
    expect(lr.spec.encoding.x.title).toBe('training.learningRate (log scale)');
    // One mark per completed point and metric; the failed point has none.
    expect(lr.data.values).toEqual([
      { metric: 'w1', x: 0.0002, value: 0.9 },
      { metric: 'modes', x: 0.0002, value: 2 },
      { metric: 'w1', x: 0.003, value: 0.3 },
      { metric: 'modes', x: 0.003, value: 2 },
    ]);
    expect(sampler.spec.encoding.x.type).toBe('nominal');
    expect(sampler.data.values.map((v) => v.x)).toEqual(['ddpm', 'ddpm', 'ddim', 'ddim']);
    const png = await renderPng(spec as never);
    expect(Buffer.from(png).subarray(1, 4).toString()).toBe('PNG');
    expect(keyScatterSpec([{ status: 'failed' }], axes)).toBeNull();
  });
});
