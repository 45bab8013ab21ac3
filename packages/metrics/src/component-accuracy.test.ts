import { type GaussianMixtureInfo, type Metric, type MetricResult, PluginError, parseOptions, Rng } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { componentAccuracyMetric, componentAccuracyOptions, nearestClassVote } from './component-accuracy.js';
import { ctxFor, drawByRow, normalCdf, rowClasses } from './test-helpers.js';

const make = async (raw: Record<string, unknown> = {}) =>
  (await componentAccuracyMetric.create(parseOptions(componentAccuracyOptions, raw, 'evaluation.metrics[0]'), { seed: 0, print: () => {}, interactive: false })) as Metric;
const details = (r: MetricResult) => (typeof r === 'number' ? { value: r } : { value: r.value, ...r.details }) as { value: number; componentAccuracyPerClass: number[] };

/** Three components 10 apart with std 0.5: a sample lands nearer another component with probability < 1e-20. */
const FAR: GaussianMixtureInfo = {
  weights: [1 / 3, 1 / 3, 1 / 3],
  means: [
    [-10, 0],
    [10, 0],
    [0, 10],
  ],
  stds: [
    [0.5, 0.5],
    [0.5, 0.5],
    [0.5, 0.5],
  ],
};
const NAMES = ['left', 'right', 'top'];

/** Trapezoid rule for ∫ f over [a, b] on `steps` intervals. */
function integrate(f: (x: number) => number, a: number, b: number, steps = 20000): number {
  const h = (b - a) / steps;
  let s = (f(a) + f(b)) / 2;
  for (let i = 1; i < steps; i++) s += f(a + i * h);
  return s * h;
}

/** P(Bin(k, p) > k/2) for odd k: the chance a majority of k independent votes, each right with probability p, is right. */
function majority(k: number, p: number): number {
  let s = 0;
  let binom = 1; // C(k, j), built up from j = 0
  for (let j = 0; j <= k; j++) {
    if (j > k / 2) s += binom * p ** j * (1 - p) ** (k - j);
    binom = (binom * (k - j)) / (j + 1);
  }
  return s;
}

describe('component-accuracy', () => {
  it('scores samples drawn exactly from the requested component 1, and from another component 0', async () => {
    const m = await make();
    const reference = drawByRow(FAR, 600, new Rng(1));
    const ctx = { ...ctxFor([2]), labels: { samples: rowClasses(300, 3), reference: rowClasses(600, 3), names: NAMES } };
    const right = details(await m.compute(drawByRow(FAR, 300, new Rng(2)), reference, ctx));
    expect(right.value).toBe(1);
    expect(right.componentAccuracyPerClass).toEqual([1, 1, 1]);
    // Row i requested i mod 3 but drawn from component i + 1 mod 3.
    const wrong = details(await m.compute(drawByRow(FAR, 300, new Rng(2), 1), reference, ctx));
    expect(wrong.value).toBe(0);
    // Only class 0 requested: the other classes have no share.
    const onlyLeft = details(await m.compute(drawByRow(FAR, 300, new Rng(3)), reference, { ...ctx, labels: { ...ctx.labels, samples: new Int32Array(300) } }));
    expect(onlyLeft.componentAccuracyPerClass[0]).toBeCloseTo(1 / 3, 10);
    expect(onlyLeft.componentAccuracyPerClass.slice(1)).toEqual([Number.NaN, Number.NaN]);
  });

  // Two overlapping classes N(−1, 1) and N(1, 1), equal weights: the class posterior of class 1 at x is
  // η(x) = 1 / (1 + e^{−2x}). As the reference grows, each of the k neighbours votes for the true class
  // independently with probability η_y(x), so accuracy → E_{x|y=1}[P(Bin(k, η(x)) > k/2)] (by symmetry the
  // same for both classes); k = 1 is Cover & Hart's limit 1 − E[2η(1 − η)]. Both lie below the Bayes accuracy Φ(1).
  it.each([1, 5])('with overlapping classes, real data scores the large-sample k-NN accuracy (k = %i), below the Bayes accuracy', async (k) => {
    const eta = (x: number) => 1 / (1 + Math.exp(-2 * x));
    const phi = (x: number) => Math.exp(-((x - 1) ** 2) / 2) / Math.sqrt(2 * Math.PI);
    const limit = integrate((x) => phi(x) * majority(k, eta(x)), -9, 11);
    const bayes = normalCdf(1);
    expect(limit).toBeLessThan(bayes);
    const draw = (n: number, seed: number) => {
      const rng = new Rng(seed);
      return Float32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -1 : 1) + rng.normal());
    };
    const n = 4000;
    const mRef = 20000;
    const m = await make({ k, maxReference: mRef });
    const r = details(
      await m.compute(draw(n, 11), draw(mRef, 12), { ...ctxFor([1]), labels: { samples: rowClasses(n, 2), reference: rowClasses(mRef, 2), names: ['neg', 'pos'] } }),
    );
    // Binomial standard error √(p(1 − p)/n) ≈ 0.0065; 3.5σ.
    expect(Math.abs(r.value - limit)).toBeLessThan(3.5 * Math.sqrt((limit * (1 - limit)) / n));
  });

  it('breaks a tied vote toward the class of the nearest tied neighbour', () => {
    const ref = Float32Array.from([0, 1, 10]);
    const labels = Int32Array.from([0, 1, 1]);
    // x = 0.4: neighbours 0 (class 0) and 1 (class 1) tie 1–1; 0 is nearer.
    expect([...nearestClassVote(Float32Array.from([0.4, 0.6]), ref, labels, 1, 2, 2)]).toEqual([0, 1]);
    // k = 3 outvotes the nearest neighbour.
    expect([...nearestClassVote(Float32Array.from([0.4]), ref, labels, 1, 3, 2)]).toEqual([1]);
  });

  it('subsamples a large reference deterministically for a ctx seed', async () => {
    const m = await make({ maxReference: 50 });
    const ref = drawByRow(FAR, 600, new Rng(4));
    const ctx = (seed: number) => ({ ...ctxFor([2], {}, seed), labels: { samples: rowClasses(90, 3), reference: rowClasses(600, 3), names: NAMES } });
    const x = drawByRow(FAR, 90, new Rng(5));
    expect(details(await m.compute(x, ref, ctx(1))).value).toBe(1);
    expect(await m.compute(x, ref, ctx(1))).toEqual(await m.compute(x, ref, ctx(1)));
  });

  it('refuses unlabelled runs and labels that do not fit, naming the metric', async () => {
    const m = await make();
    const x = drawByRow(FAR, 30, new Rng(6));
    expect(() => m.check?.({ shape: [2], info: {} })).toThrow(PluginError);
    expect(() => m.check?.({ shape: [2], info: {} })).toThrow(/Metric "component-accuracy": this run generates without class labels/);
    expect(() => m.check?.({ shape: [2], info: {}, labelNames: NAMES })).not.toThrow();
    await expect(async () => m.compute(x, x, ctxFor([2]))).rejects.toThrow(/Metric "component-accuracy": the samples come without class labels/);
    const labels = { samples: rowClasses(30, 3), reference: rowClasses(30, 3), names: NAMES };
    await expect(async () => m.compute(x, x, { ...ctxFor([2]), labels: { ...labels, samples: rowClasses(29, 3) } })).rejects.toThrow(
      /labels\.samples has 29 entries but there are 30 generated samples/,
    );
    await expect(async () => m.compute(x, x, { ...ctxFor([2]), labels: { ...labels, reference: rowClasses(30, 4) } })).rejects.toThrow(
      /labels\.reference\[3\] is 3, outside the 3 classes/,
    );
    // A requested class the reference lacks cannot be matched.
    await expect(async () => m.compute(x, x, { ...ctxFor([2]), labels: { ...labels, reference: new Int32Array(30) } })).rejects.toThrow(
      /the reference has no points of requested class 1 \("right"\), 2 \("top"\)/,
    );
  });

  it('reports a diverged (NaN) sample set as NaN instead of a share', async () => {
    const m = await make();
    const x = drawByRow(FAR, 30, new Rng(7));
    const bad = x.slice();
    bad[3] = Number.NaN;
    const r = await m.compute(bad, x, { ...ctxFor([2]), labels: { samples: rowClasses(30, 3), reference: rowClasses(30, 3), names: NAMES } });
    expect(details(r).value).toBeNaN();
  });
});
