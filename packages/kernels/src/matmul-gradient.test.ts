import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@diffusionlab/core';
import { installMatMulGradientFix, matMulGradConfig, matMulGradientFixInstalled, uninstallMatMulGradientFix } from './matmul-gradient.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => uninstallMatMulGradientFix());

function grads(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): Float32Array[] {
  return tf.tidy(() => {
    // a non-trivial upstream gradient: L = Σ w ⊙ (a·b)
    const f = (x: tf.Tensor, y: tf.Tensor) => {
      const c = tf.matMul(x, y, ta, tb);
      return tf.sum(tf.mul(c, tf.sin(tf.reshape(tf.range(0, c.size), c.shape))));
    };
    return tf
      .grads(f)([a, b])
      .map((g) => g.dataSync() as Float32Array);
  });
}

describe('installMatMulGradientFix', () => {
  const rng = new Rng(1);
  const r = (shape: number[]) => tf.tensor(rng.normalArray(shape.reduce((x, y) => x * y)), shape);
  const cases: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { name: 'a·b', a: [5, 3], b: [3, 4], ta: false, tb: false },
    { name: 'a·bᵀ', a: [5, 3], b: [4, 3], ta: false, tb: true },
    { name: 'aᵀ·b', a: [3, 5], b: [3, 4], ta: true, tb: false },
    { name: 'aᵀ·bᵀ', a: [3, 5], b: [4, 3], ta: true, tb: true },
    { name: 'batched a·bᵀ (rank 3)', a: [2, 5, 3], b: [2, 4, 3], ta: false, tb: true },
  ];
  for (const c of cases) {
    it(`gives tfjs's own gradient for ${c.name}`, () => {
      const a = r(c.a);
      const b = r(c.b);
      uninstallMatMulGradientFix();
      expect(tf.getGradient('BatchMatMul')).not.toBe(matMulGradConfig);
      const want = grads(a, b, c.ta, c.tb);
      installMatMulGradientFix();
      expect(matMulGradientFixInstalled()).toBe(true);
      const got = grads(a, b, c.ta, c.tb);
      for (let i = 0; i < 2; i++) {
        expect(got[i].length).toBe(want[i].length);
        for (let j = 0; j < want[i].length; j++) expect(Math.abs(got[i][j] - want[i][j])).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i][j])));
      }
      tf.dispose([a, b]);
    });
  }

  it('is idempotent, transposes explicitly, restores the original and leaks nothing', async () => {
    const original = (uninstallMatMulGradientFix(), tf.getGradient('BatchMatMul'));
    installMatMulGradientFix();
    installMatMulGradientFix();
    expect(tf.getGradient('BatchMatMul')).toBe(matMulGradConfig);
    const a = r([4, 3]);
    const b = r([3, 2]);
    const before = tf.memory().numTensors;
    // every BatchMatMul kernel the fixed gradient runs is untransposed: inner dimensions agree
    // as given (tfjs's own gradient passes [4,2]·[3,2] with transposeB, which does not)
    const untransposed = async (cfg: typeof matMulGradConfig) => {
      const prof = await tf.profile(() =>
        tf.tidy(() => {
          const dy = tf.ones([4, 2]);
          const g = cfg.gradFunc(dy, [a, b], { transposeA: false, transposeB: false }) as Record<string, () => tf.Tensor>;
          const out = [g.a(), g.b()];
          expect(out[0].shape).toEqual([4, 3]);
          expect(out[1].shape).toEqual([3, 2]);
        }),
      );
      const mms = prof.kernels.filter((k) => k.name === 'BatchMatMul');
      expect(mms.length).toBe(2);
      return mms.every(({ inputShapes: [x, y] }) => x![x!.length - 1] === y![y!.length - 2]);
    };
    expect(await untransposed(matMulGradConfig)).toBe(true);
    expect(await untransposed(original!)).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    uninstallMatMulGradientFix();
    expect(tf.getGradient('BatchMatMul')).toBe(original);
    expect(matMulGradientFixInstalled()).toBe(false);
    tf.dispose([a, b]);
  });
});
