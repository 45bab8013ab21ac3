/** Test helpers (not exported from the package): seeded Gaussian draws, a metric context and labelled sources. */
import { type DatasetInfo, type GaussianMixtureInfo, type MetricContext, type PluginDefinition, Rng } from '@diffusionlab/core';

/** n draws from N(mu, std²·I) in d dims, row-major [n, d]. */
export function gaussian(rng: Rng, n: number, mu: readonly number[], std = 1): Float32Array {
  const d = mu.length;
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) x[i * d + c] = mu[c] + std * rng.normal();
  return x;
}

/** A metric context for a [d]-shaped sample (or an explicit shape). */
export function ctxFor(shape: readonly number[], info: DatasetInfo = {}, seed = 7): MetricContext {
  return { shape, info, rng: new Rng(seed) };
}

/** Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** Resolves a metric result to its value. */
export function valueOfResult(r: number | { value: number }): number {
  return typeof r === 'number' ? r : r.value;
}

/** Class of row i in the labelled test sources: rows cycle through the classes, so labels follow from the row index alone. */
export const rowClasses = (rows: number, classes: number): Int32Array => Int32Array.from({ length: rows }, (_, i) => i % classes);

/**
 * A labelled metric plugin as an unlabelled one, for testkit's conformance suite (which passes no labels):
 * compute and check receive labels as a conditional run would give them, row i of either set being of
 * class i mod names.length — so the suite's sources must draw row i from class i mod names.length.
 */
// biome-ignore lint/suspicious/noExplicitAny: any metric plugin's option schema.
export function withRowLabels(plugin: PluginDefinition<'metric', any>, names: readonly string[]): PluginDefinition<'metric', any> {
  return {
    ...plugin,
    async create(options, context) {
      const m = await plugin.create(options, context);
      return {
        name: m.name,
        higherIsBetter: m.higherIsBetter,
        check: (ctx) => m.check?.({ ...ctx, labelNames: names }),
        compute(generated, reference, ctx) {
          const d = ctx.shape.reduce((a, b) => a * b, 1);
          const rows = (x: Float32Array) => Math.floor(x.length / d);
          const labels = { samples: rowClasses(rows(generated), names.length), reference: rowClasses(rows(reference), names.length), names };
          return m.compute(generated, reference, { ...ctx, labels });
        },
      };
    },
  };
}

/** n draws of a diagonal-Gaussian mixture with row i from component (i + offset) mod K: a labelled source for {@link withRowLabels}. */
export function drawByRow(m: GaussianMixtureInfo, n: number, rng: Rng, offset = 0, stdScale = 1): Float32Array {
  const D = m.means[0].length;
  const K = m.means.length;
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const k = (i + offset) % K;
    for (let j = 0; j < D; j++) out[i * D + j] = m.means[k][j] + stdScale * m.stds[k][j] * rng.normal();
  }
  return out;
}
