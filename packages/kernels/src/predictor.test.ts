import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { posteriorVariance, Rng, scheduleFromBetas } from '@diffusionlab/core';
import { sampleDdpmFused, sampleDdpmFusedParallel, terminateDdpmWorkers } from './ddpm.js';
import { createFusedMlpPredictor, type FusedMlpPredictor } from './predictor.js';
import { type Act, disposeMlp, makeMlp, referenceForward } from './test/mlp-fixture.js';
import { relErr } from './test/compare.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  await terminateDdpmWorkers();
});

function predictor(d: ReturnType<typeof makeMlp>): FusedMlpPredictor {
  const p = createFusedMlpPredictor(d);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

/** max |a − b| / max(1, max |b|). */
describe('fused predictor matches the tfjs forward pass', () => {
  const cases: { widths: number[]; act: Act; n: number }[] = [
    { widths: [2, 128, 128, 1], act: 'silu', n: 1000 }, // the seed network, 15 full tiles + a partial one
    { widths: [3, 64, 64, 64, 2], act: 'gelu', n: 130 },
    { widths: [4, 20, 3], act: 'relu', n: 5 },
    { widths: [3, 33, 2], act: 'tanh', n: 67 },
  ];
  for (const c of cases) {
    it(`${c.act} ${c.widths.join('→')} on ${c.n} rows`, () => {
      const d = makeMlp(c.widths, c.act, 4);
      const D = c.widths[c.widths.length - 1];
      const rng = new Rng(2);
      const x = rng.normalArray(c.n * D);
      const before = tf.memory().numTensors;
      const p = predictor(d);
      for (const t of [0, 37, 99]) {
        const got = p.predict(x, t, c.n);
        const want = tf.tidy(() => referenceForward(d, tf.tensor2d(x, [c.n, D]), tf.fill([c.n], t)).dataSync());
        expect(got.length).toBe(c.n * D);
        expect(relErr(got, want)).toBeLessThan(1e-5);
      }
      // per-row t
      const ts = Float32Array.from({ length: c.n }, (_, i) => i % 100);
      const want = tf.tidy(() => referenceForward(d, tf.tensor2d(x, [c.n, D]), tf.tensor1d(ts)).dataSync());
      expect(relErr(p.predict(x, ts, c.n), want)).toBeLessThan(1e-5);
      expect(tf.memory().numTensors).toBe(before);
      p.dispose();
      expect(() => p.predict(x, 0, c.n)).toThrow(/dispose/);
      disposeMlp(d);
    });
  }

  it('snapshots weights until refresh()', () => {
    const d = makeMlp([2, 8, 1], 'silu', 5);
    const p = predictor(d);
    const x = new Float32Array([0.5, -1]);
    const a = p.predict(x, 3, 2).slice();
    d.layers[1].bias.assign(tf.add(d.layers[1].bias, 1) as tf.Tensor1D);
    expect(Array.from(p.predict(x, 3, 2))).toEqual(Array.from(a));
    p.refresh();
    const b = p.predict(x, 3, 2);
    expect(b[0] - a[0]).toBeCloseTo(1, 5);
    disposeMlp(d);
  });

  it('declines what it cannot run', () => {
    const d = makeMlp([2, 8, 1], 'silu', 5);
    expect(createFusedMlpPredictor({ ...d, activation: 'softplus' as 'silu' })).toMatch(/activation/);
    expect(createFusedMlpPredictor(null)).toMatch(/plain MLP/);
    disposeMlp(d);
  });
});

describe('fused DDPM sampling', () => {
  const schedule = scheduleFromBetas(
    'linear',
    Float64Array.from({ length: 20 }, (_, i) => 1e-3 + (0.1 * i) / 19),
  );

  /** DDPM Algorithm 2 with the tfjs forward pass and the same noise order. */
  function reference(d: ReturnType<typeof makeMlp>, n: number, D: number, seed: number, type: 'epsilon' | 'sample' | 'v', large = false): Float32Array {
    const rng = new Rng(seed);
    const x = rng.normalArray(n * D);
    for (let t = schedule.numTrainTimesteps - 1; t >= 0; t--) {
      const out = tf.tidy(() => referenceForward(d, tf.tensor2d(x, [n, D]), tf.fill([n], t)).dataSync());
      const ab = schedule.alphasCumprod[t];
      const [sa, sb] = [Math.sqrt(ab), Math.sqrt(1 - ab)];
      const z = t > 0 ? rng.normalArray(n * D) : null;
      for (let i = 0; i < n * D; i++) {
        const eps = type === 'epsilon' ? out[i] : type === 'sample' ? (x[i] - sa * out[i]) / sb : sb * x[i] + sa * out[i];
        x[i] = (x[i] - (schedule.betas[t] / sb) * eps) / Math.sqrt(schedule.alphas[t]) + (z ? Math.sqrt(large ? schedule.betas[t] : posteriorVariance(schedule, t)) * z[i] : 0);
      }
    }
    return x;
  }

  for (const type of ['epsilon', 'sample', 'v'] as const) {
    it(`matches a tfjs DDPM loop (${type} prediction)`, () => {
      const d = makeMlp([3, 32, 32, 2], 'silu', 6);
      const want = reference(d, 50, 2, 9, type);
      const got = sampleDdpmFused({ description: d, schedule, predictionType: type, n: 50, rng: new Rng(9) });
      expect(relErr(got, want)).toBeLessThan(1e-4);
      disposeMlp(d);
    });
  }

  it('fixed-large variance; declines αₜ = 0', () => {
    const d = makeMlp([2, 16, 1], 'tanh', 6);
    const want = reference(d, 20, 1, 2, 'epsilon', true);
    expect(relErr(sampleDdpmFused({ description: d, schedule, n: 20, rng: new Rng(2), variance: 'fixed-large' }), want)).toBeLessThan(1e-4);
    const small = sampleDdpmFused({ description: d, schedule, n: 20, rng: new Rng(2) });
    expect(relErr(small, want)).toBeGreaterThan(1e-3);
    const betas = Float64Array.from(schedule.betas);
    betas[19] = 1;
    const zsnr = { ...schedule, betas, alphas: betas.map((b) => 1 - b) };
    expect(() => sampleDdpmFused({ description: d, schedule: zsnr, n: 2, rng: new Rng(1) })).toThrow(/α_19 = 0/);
    disposeMlp(d);
  });

  it('worker threads give bit-identical samples for any thread count', async () => {
    const d = makeMlp([2, 32, 32, 1], 'silu', 7);
    const single = sampleDdpmFused({ description: d, schedule, n: 101, rng: new Rng(3) });
    for (const threads of [1, 2, 3]) {
      const par = await sampleDdpmFusedParallel({ description: d, schedule, n: 101, rng: new Rng(3), threads });
      expect(Array.from(par)).toEqual(Array.from(single));
    }
    const xT = new Rng(4).normalArray(101);
    const fromXT = sampleDdpmFused({ description: d, schedule, n: 101, rng: new Rng(3), xT });
    expect(Array.from(fromXT)).not.toEqual(Array.from(single));
    expect(() => sampleDdpmFused({ description: d, schedule, n: 5, rng: new Rng(3), xT })).toThrow(/n·D = 5/);
    disposeMlp(d);
  });
});
