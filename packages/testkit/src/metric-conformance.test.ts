import { definePlugin, type Metric, PluginError, z } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { checkMetricDeterminism, checkMetricNoiseFloor, checkMetricRejectsShapes, defaultMetricSource, metricConformance } from './metric-conformance.js';

/** Faults to inject, so each check is shown to fail on the fault it is for. */
interface Faults {
  constant?: boolean;
  mathRandom?: boolean;
  sortsInput?: boolean;
  acceptsRagged?: boolean;
  plainError?: boolean;
  nan?: boolean;
}

/** |mean(generated) − mean(reference)| over all values: a crude distance, enough for the suite. */
function meanGap(f: Faults = {}): Metric {
  return {
    name: 'mean-gap',
    higherIsBetter: false,
    compute(g, r, ctx) {
      const D = ctx.shape.reduce((a, b) => a * b, 1);
      for (const [x, which] of [
        [g, 'generated'],
        [r, 'reference'],
      ] as const) {
        if (!f.acceptsRagged && (x.length === 0 || x.length % D !== 0)) {
          if (f.plainError) throw new Error('bad length');
          throw new PluginError(`Metric "mean-gap": the ${which} array is not a whole number of samples`);
        }
      }
      if (f.sortsInput) g.sort();
      const mean = (x: Float32Array) => x.reduce((a, b) => a + b, 0) / x.length;
      if (f.nan) return Number.NaN;
      if (f.constant) return 0.1;
      return Math.abs(mean(g) - mean(r)) + (f.mathRandom ? Math.random() * 1e-9 : 0);
    },
  };
}

metricConformance(
  definePlugin({
    kind: 'metric',
    name: 'mean-gap',
    description: 'Gap between the means (test metric)',
    options: z.object({ scale: z.number().positive().default(1).describe('unused') }).strict(),
    create: () => meanGap(),
  }),
  { optionsList: [{}, { scale: 2 }], invalid: [{ options: { scale: 0 }, path: 'metric.scale' }] },
);

describe('metric checks fail on the fault they are for', () => {
  const setting = { source: defaultMetricSource(), n: 200 };
  it('a metric that cannot see a shifted distribution', async () => {
    await expect(checkMetricNoiseFloor(meanGap({ constant: true }), setting)).rejects.toThrow(/shifted distribution scores 0\.1, not worse/);
  });
  it('a non-finite noise floor', async () => {
    await expect(checkMetricNoiseFloor(meanGap({ nan: true }), setting)).rejects.toThrow(/noise floor .* is NaN/);
  });
  it('randomness outside ctx.rng, and mutated inputs', async () => {
    await expect(checkMetricDeterminism(meanGap({ mathRandom: true }), setting)).rejects.toThrow(/derive all randomness from ctx\.rng/);
    await expect(checkMetricDeterminism(meanGap({ sortsInput: true }), setting)).rejects.toThrow(/changed the generated array/);
  });
  it('mismatched shapes accepted, or refused without a diffusionlab error', async () => {
    await expect(checkMetricRejectsShapes(meanGap({ acceptsRagged: true }), setting)).rejects.toThrow(/an empty generated set .* it returned a value/);
    await expect(checkMetricRejectsShapes(meanGap({ plainError: true }), setting)).rejects.toThrow(/threw Error: bad length/);
  });
});
