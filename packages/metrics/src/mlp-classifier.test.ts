import { Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { accuracy, hiddenActivations, predictProba, trainMlpClassifier } from './mlp-classifier.js';

/** Three Gaussian blobs in 6-D, unit std, centres 3·e_{2c} (3√2 apart): Bayes accuracy ≥ 1 − 2Φ(−3√2/2) ≈ 0.966. */
function blobs(n: number, rng: Rng): { x: Float32Array; y: Int32Array } {
  const d = 6;
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let k = 0; k < d; k++) x[i * d + k] = rng.normal() + (k === 2 * y[i] ? 3 : 0);
  }
  return { x, y };
}

describe('trainMlpClassifier', () => {
  it('learns separable classes and generalises to a fresh draw', () => {
    const rng = new Rng(3);
    const train = blobs(1500, rng.fork('train'));
    const test = blobs(600, rng.fork('test'));
    const net = trainMlpClassifier(train.x, train.y, 3, { hidden: 16, epochs: 20, learningRate: 3e-3, seed: 1 });
    // Bayes accuracy ≈ 0.966; 600 test points put its sd at ≈ 0.007, so 0.93 leaves room only for a working learner (chance: 0.33).
    expect(accuracy(net, test.x, test.y)).toBeGreaterThan(0.93);
  });

  it('gives probability rows that sum to 1 and is deterministic for a seed', () => {
    const { x, y } = blobs(300, new Rng(5));
    const a = trainMlpClassifier(x, y, 3, { hidden: 8, epochs: 2, seed: 9 });
    const b = trainMlpClassifier(x, y, 3, { hidden: 8, epochs: 2, seed: 9 });
    expect(Array.from(a.w1)).toEqual(Array.from(b.w1));
    const p = predictProba(a, x);
    for (let i = 0; i < 300; i++) expect(p[i * 3] + p[i * 3 + 1] + p[i * 3 + 2]).toBeCloseTo(1, 5);
  });

  it('exposes the hidden layer: ReLU(x·W₁ + b₁), from which the output layer gives predictProba', () => {
    const { x, y } = blobs(300, new Rng(6));
    const net = trainMlpClassifier(x, y, 3, { hidden: 8, epochs: 2, seed: 4 });
    const h = hiddenActivations(net, x);
    const p = predictProba(net, x);
    expect(h.length).toBe(300 * 8);
    for (let i = 0; i < 300; i += 37) {
      for (let j = 0; j < 8; j++) {
        let z = net.b1[j];
        for (let k = 0; k < 6; k++) z += x[i * 6 + k] * net.w1[k * 8 + j];
        expect(h[i * 8 + j]).toBeCloseTo(Math.max(0, z), 5);
      }
      const logits = [0, 1, 2].map((c) => net.b2[c] + Array.from({ length: 8 }, (_, j) => h[i * 8 + j] * net.w2[j * 3 + c]).reduce((a, b) => a + b, 0));
      const m = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - m));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < 3; c++) expect(p[i * 3 + c]).toBeCloseTo(e[c] / sum, 5);
    }
    expect(() => hiddenActivations(net, new Float32Array(7))).toThrow(RangeError);
  });

  it('rejects labels outside the class range and ragged inputs', () => {
    expect(() => trainMlpClassifier(new Float32Array(4), [0, 3], 3)).toThrow(/label 3 at row 1/);
    expect(() => trainMlpClassifier(new Float32Array(5), [0, 1], 3)).toThrow(/do not split/);
  });
});
