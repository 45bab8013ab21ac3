import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConformanceError, expectClose, expectNoTensorLeak, meanStd } from './assertions.js';
import { activateBackendBeforeAll } from './backend.js';
import * as testkit from './index.js';

activateBackendBeforeAll('cpu');

describe('expectClose', () => {
  it('passes within tolerance, for typed and plain arrays', () => {
    expectClose(new Float32Array([1, 2, 3]), [1, 2.0005, 3], 1e-3);
    expectClose([100, 200], [101, 198], { rel: 0.011 });
    expectClose([Number.POSITIVE_INFINITY], [Number.POSITIVE_INFINITY], 0);
  });
  it('fails naming the worst element, on NaN and on length mismatch', () => {
    expect(() => expectClose([1, 2, 3], [1, 2.5, 3.1], 0.05)).toThrow(/element 1 is 2, expected 2.5/);
    expect(() => expectClose([Number.NaN], [Number.NaN], 1)).toThrow(ConformanceError);
    expect(() => expectClose([1, 2], [1], 1)).toThrow(/length 2/);
    expect(() => expectClose([100], [102], { abs: 1, rel: 0.005 })).toThrow(ConformanceError);
  });
});

describe('meanStd', () => {
  it('matches hand values: [1, 2, 3, 4] → mean 2.5, std √(5/3)', () => {
    const { mean, std } = meanStd(new Float32Array([1, 2, 3, 4]));
    expect(mean).toBe(2.5);
    expect(std).toBeCloseTo(Math.sqrt(5 / 3), 15);
  });
  it('is exact for a shifted constant and handles n = 0, 1', () => {
    expect(meanStd([1e6 + 0.5, 1e6 + 0.5, 1e6 + 0.5])).toEqual({ mean: 1e6 + 0.5, std: 0 });
    expect(meanStd([7])).toEqual({ mean: 7, std: 0 });
    expect(Number.isNaN(meanStd([]).mean)).toBe(true);
  });
});

describe('expectNoTensorLeak', () => {
  it('passes when tensors are disposed and returns the result', async () => {
    const v = await expectNoTensorLeak(() => tf.tidy(() => tf.sum(tf.ones([3])).dataSync()[0]));
    expect(v).toBe(3);
  });
  it('fails when a tensor is kept, and allows a stated number', async () => {
    let kept: tf.Tensor | undefined;
    await expect(
      expectNoTensorLeak(() => {
        kept = tf.ones([2]);
      }),
    ).rejects.toThrow(/1 tensor\(s\) leaked/);
    kept?.dispose();
    const t = await expectNoTensorLeak(async () => tf.zeros([1]), 1);
    t.dispose();
  });
});

describe('activateBackendBeforeAll', () => {
  it('registered and activated the cpu backend in beforeAll', () => {
    expect(tf.getBackend()).toBe('cpu');
  });

  it('keeps its old name useBackend as a deprecated alias of the same function', () => {
    expect(testkit.useBackend).toBe(activateBackendBeforeAll);
    expect(testkit.activateBackendBeforeAll).toBe(activateBackendBeforeAll);
  });
});
