/**
 * `gaussian-mixture`: p(x) = Σᵢ wᵢ·N(x; μᵢ, diag(σᵢ²)). The reference example's data (half from
 * N(−2, 0.5²), half from N(2, 0.5²), shuffled) is the two-component case; because the density is
 * known exactly, `info.mixture` lets the oracle denoiser and the modes metric use it.
 */
import {
  ConfigError,
  type ConfigIssue,
  type Dataset,
  definePlugin,
  type GaussianMixtureInfo,
  type LabeledDraw,
  type Rng,
  type TrainingSet,
  withDefaults,
  z,
} from '@diffusionlab/core';
import { rowsEstimate } from './estimate.js';
import { DATASET_PATH, largestRemainder, shuffleRows } from './util.js';

const numberOrVector = z.union([z.number(), z.array(z.number()).min(1)], {
  error: 'must be a finite number or a non-empty array of finite numbers',
});

const componentSchema = z
  .object({
    mean: numberOrVector.describe('Component mean μᵢ: one number (used for every dimension) or one value per dimension.'),
    std: numberOrVector.describe('Standard deviation σᵢ > 0: one number (used for every dimension) or one value per dimension.'),
    weight: z.number().positive({ error: 'must be > 0' }).optional().describe('Relative mixing weight wᵢ > 0 (normalised over components); equal weights when omitted.'),
  })
  .strict();

/** One mixture component as a config writes it. */
export type MixtureComponentOptions = z.output<typeof componentSchema>;

/** What the `gaussian-mixture` plugin accepts, before mixture-level checks. */
const baseSchema = z
  .object({
    components: z
      .array(componentSchema)
      .min(1, { error: 'needs at least one component' })
      .describe('Mixture components: a list of { mean, std, weight? }. Scalars broadcast to `dim` dimensions.'),
    dim: z
      .number()
      .int({ error: 'must be a positive integer' })
      .positive({ error: 'must be a positive integer' })
      .optional()
      .describe('Data dimension D; inferred from the components when omitted (1 if every mean and std is a number).'),
    size: z
      .number()
      .int({ error: 'must be a positive integer' })
      .positive({ error: 'must be a positive integer' })
      .optional()
      .describe('Number of training points; when omitted the data is drawn fresh every epoch.'),
    epochSize: z
      .number()
      .int({ error: 'must be a positive integer' })
      .positive({ error: 'must be a positive integer' })
      .default(1000)
      .describe('Points per epoch when `size` is omitted (data drawn fresh); ignored otherwise.'),
    stratified: z
      .boolean()
      .default(true)
      .describe('Exactly round(size·wᵢ) points from component i (largest remainder), then shuffled, as the reference does; false draws each point’s component at random.'),
  })
  .strict();

/** Options of the `gaussian-mixture` plugin (after defaults). */
export type GaussianMixtureOptions = z.output<typeof baseSchema>;

/** A fully resolved mixture: D, normalised weights, per-dimension means and stds. */
export interface ResolvedMixture extends GaussianMixtureInfo {
  dim: number;
}

/**
 * Checks a mixture and resolves it, or lists every problem with its key path relative to the
 * options (`components[1].std`). Shared by the schema refinement and `create`, so the rules live once.
 */
export function resolveMixture(opts: { components: readonly { mean: unknown; std: unknown; weight?: unknown }[]; dim?: number }): {
  mixture?: ResolvedMixture;
  issues: { path: (string | number)[]; message: string }[];
} {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const lengthOf = (v: unknown) => (Array.isArray(v) ? v.length : undefined);
  // The dimension comes from `dim`, else from the first vector-valued mean or std.
  let dim = opts.dim;
  let dimFrom = 'dim';
  if (dim === undefined) {
    for (let i = 0; i < opts.components.length && dim === undefined; i++) {
      for (const key of ['mean', 'std'] as const) {
        const n = lengthOf(opts.components[i][key]);
        if (n !== undefined) {
          dim = n;
          dimFrom = `components[${i}].${key}`;
          break;
        }
      }
    }
  }
  const D = dim ?? 1;
  const means: number[][] = [];
  const stds: number[][] = [];
  opts.components.forEach((c, i) => {
    for (const key of ['mean', 'std'] as const) {
      const v = c[key];
      const n = lengthOf(v);
      if (n !== undefined && n !== D) {
        issues.push({ path: ['components', i, key], message: `has ${n} values but ${dimFrom} sets the dimension to ${D}` });
        continue;
      }
      const vec = Array.isArray(v) ? (v as number[]) : new Array<number>(D).fill(v as number);
      if (key === 'std') {
        vec.forEach((s, j) => {
          if (typeof s === 'number' && !(s > 0)) issues.push({ path: Array.isArray(v) ? ['components', i, 'std', j] : ['components', i, 'std'], message: `must be > 0, got ${s}` });
        });
        stds.push(vec);
      } else means.push(vec);
    }
  });
  if (issues.length > 0) return { issues };
  const raw = opts.components.map((c) => (typeof c.weight === 'number' ? c.weight : 1));
  const total = raw.reduce((a, b) => a + b, 0);
  return { mixture: { dim: D, weights: raw.map((w) => w / total), means, stds }, issues };
}

/** The options schema: field checks, then the mixture-level checks (dimensions, std > 0) with their key paths. */
export const gaussianMixtureOptions = baseSchema.superRefine((v, ctx) => {
  for (const issue of resolveMixture(v).issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});

/**
 * Draws n points. Stratified: exactly largestRemainder(n, w) points per component, generated in
 * component order then row-shuffled (the reference's vstack + shuffle); otherwise each point's
 * component is drawn from Categorical(w). With `labels`, writes each point's component into it
 * without drawing extra random numbers, so the points are the same with or without labels.
 */
export function sampleMixture(m: ResolvedMixture, n: number, rng: Rng, stratified: boolean, labels?: Int32Array): Float32Array {
  const D = m.dim;
  const out = new Float32Array(n * D);
  const fill = (row: number, k: number) => {
    if (labels) labels[row] = k;
    const mu = m.means[k];
    const sd = m.stds[k];
    for (let j = 0; j < D; j++) out[row * D + j] = mu[j] + sd[j] * rng.normal();
  };
  if (stratified) {
    const counts = largestRemainder(n, m.weights);
    let row = 0;
    counts.forEach((c, k) => {
      for (let i = 0; i < c; i++) fill(row++, k);
    });
    return shuffleRows(out, D, rng, labels);
  }
  const cdf: number[] = [];
  m.weights.reduce((acc, w, k) => (cdf[k] = acc + w), 0);
  for (let row = 0; row < n; row++) {
    const u = rng.uniform();
    let k = 0;
    while (k < cdf.length - 1 && u >= cdf[k]) k++;
    fill(row, k);
  }
  return out;
}

function toConfigError(issues: { path: (string | number)[]; message: string }[]): ConfigError {
  const list: ConfigIssue[] = issues.map((i) => ({
    path: i.path.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : `${acc}.${s}`), DATASET_PATH),
    message: i.message,
  }));
  return new ConfigError(list);
}

/** Builds the dataset from parsed options (the plugin and `createGaussianMixture` share it). */
function buildGaussianMixture(options: GaussianMixtureOptions): Dataset {
  const { mixture: m, issues } = resolveMixture(options);
  if (!m) throw toConfigError(issues);
  const { size, epochSize, stratified } = options;
  const labeled = (n: number, rng: Rng, strat: boolean): LabeledDraw => {
    const labels = new Int32Array(n);
    return { data: sampleMixture(m, n, rng, strat, labels), labels };
  };
  return {
    name: 'gaussian-mixture',
    shape: [m.dim],
    info: {
      mixture: { weights: m.weights, means: m.means, stds: m.stds },
      modes: { centers: m.means.map((c) => c.slice()) },
    },
    labelNames: m.weights.map((_, k) => `component ${k}`),
    load(rng: Rng): TrainingSet {
      if (size !== undefined) return { ...labeled(size, rng, stratified), count: size };
      return {
        ...labeled(epochSize, rng, stratified),
        count: epochSize,
        fresh: (n, r) => sampleMixture(m, n, r, stratified),
        freshLabeled: (n, r) => labeled(n, r, stratified),
      };
    },
    reference(n: number, rng: Rng): Float32Array {
      return sampleMixture(m, n, rng, stratified);
    },
    // A generator picks each sample's component at random, so its noise floor must too.
    perfectDraw(n: number, rng: Rng): Float32Array {
      return sampleMixture(m, n, rng, false);
    },
    labeledReference: (n, rng) => labeled(n, rng, stratified),
    labeledPerfectDraw: (n, rng) => labeled(n, rng, false),
  };
}

/** The reference example's data source, and any diagonal Gaussian mixture. */
export const gaussianMixtureDataset = definePlugin({
  kind: 'dataset',
  name: 'gaussian-mixture',
  description: 'Diagonal Gaussian mixture with exact density info (the reference example’s two-Gaussian 1-D data).',
  options: gaussianMixtureOptions,
  estimateMemory: (o) => rowsEstimate(o.size ?? o.epochSize, [resolveMixture(o).mixture?.dim ?? 1], o.size !== undefined ? 'size' : 'epochSize'),
  create: (options) => buildGaussianMixture(options),
});

/**
 * The `gaussian-mixture` dataset from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createGaussianMixture({ … })`).
 */
export const createGaussianMixture = withDefaults(gaussianMixtureDataset.options, buildGaussianMixture, 'dataset');
