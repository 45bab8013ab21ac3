/**
 * The frame shared by the 2-D toy sets (moons, swiss-roll, eight-gaussians, …): common options,
 * standardisation from a large fixed draw, fresh-draw mode, and mapping mode/mixture info into the
 * space the model trains on. Each set only supplies its sampler, in its own file.
 */
import { type Dataset, type DatasetInfo, definePlugin, type GaussianMixtureInfo, type LabeledDraw, Rng, type TrainingSet, z } from '@diffusionlab/core';
import { rowsEstimate } from './estimate.js';
import { columnStats, type Standardization, standardizeInPlace } from './util.js';

/** Points in the fixed draw that sets the standardisation (sampling error of the std ≈ 0.2 %). */
export const STATS_DRAW = 100_000;
/** Seed of that draw: fixed, so the map is the same for every run seed and for `reference()`. */
export const STATS_SEED = 0x5eed2d;

/** Options every 2-D toy set shares. */
export interface ToyBaseOptions {
  size: number;
  fresh: boolean;
  noise: number;
  standardize: boolean;
}

/** What one toy set provides: its sampler (in raw units) and, where meaningful, its modes or exact mixture. */
export interface ToySpec<E extends z.ZodRawShape> {
  name: string;
  description: string;
  noiseDefault: number;
  noiseDescription: string;
  /** Options beyond the shared ones (e.g. pinwheel's arm count). */
  extra: E;
  /**
   * n i.i.d. points, row-major [n, 2], in the set's raw units; when `labels` is given, writes each
   * point's class (arm, moon, component) into it without drawing any extra random number, so the
   * points are the same with or without labels.
   */
  sample(n: number, options: ToyBaseOptions & z.output<z.ZodObject<E>>, rng: Rng, labels?: Int32Array): Float32Array;
  /** Names of the classes `sample` writes, for sets whose points come from discrete parts (arms, moons). */
  classNames?(options: ToyBaseOptions & z.output<z.ZodObject<E>>): string[];
  /** Mode centres and "on-mode" radius in raw units, where the set has point-like modes. */
  modes?(options: ToyBaseOptions & z.output<z.ZodObject<E>>): { centers: number[][]; radius?: number } | undefined;
  /** The exact density when the set is a Gaussian mixture (eight-gaussians), in raw units. */
  mixture?(options: ToyBaseOptions & z.output<z.ZodObject<E>>): GaussianMixtureInfo | undefined;
}

/** Maps raw-unit info into model space with x ↦ (x − mean)/std; a radius scales by the mean of the stds. */
function mapInfo(s: Standardization | undefined, modes: ReturnType<NonNullable<ToySpec<z.ZodRawShape>['modes']>>, mixture: GaussianMixtureInfo | undefined): DatasetInfo {
  const info: DatasetInfo = {};
  const point = (c: number[]) => (s ? c.map((v, j) => (v - s.mean[j]) / s.std[j]) : c.slice());
  const scale = s ? (s.std[0] + s.std[1]) / 2 : 1;
  if (s) info.standardization = s;
  if (modes) info.modes = { centers: modes.centers.map(point), ...(modes.radius !== undefined ? { radius: modes.radius / scale } : {}) };
  if (mixture) {
    info.mixture = {
      weights: mixture.weights.slice(),
      means: mixture.means.map(point),
      stds: mixture.stds.map((sd) => (s ? sd.map((v, j) => v / s.std[j]) : sd.slice())),
    };
  }
  return info;
}

/** Builds a dataset plugin for one 2-D toy set from its spec. */
export function defineToy2d<E extends z.ZodRawShape>(spec: ToySpec<E>) {
  const options = z
    .object({
      size: z
        .number()
        .int({ error: 'must be a positive integer' })
        .positive({ error: 'must be a positive integer' })
        .default(10_000)
        .describe('Number of training points (with `fresh`, points per epoch).'),
      fresh: z.boolean().default(false).describe('Draw new points every epoch instead of reusing one fixed training set.'),
      noise: z.number().min(0, { error: 'must be ≥ 0' }).default(spec.noiseDefault).describe(spec.noiseDescription),
      standardize: z
        .boolean()
        .default(true)
        .describe(`Train on (x − mean)/std per dimension, with mean/std from a fixed draw of ${STATS_DRAW} points; recorded in info.standardization.`),
      ...spec.extra,
    })
    .strict();
  type Opts = ToyBaseOptions & z.output<z.ZodObject<E>>;
  return definePlugin({
    kind: 'dataset',
    name: spec.name,
    description: spec.description,
    options,
    estimateMemory: (o) => rowsEstimate((o as Opts).size, [2], 'size'),
    create(raw): Dataset {
      const o = raw as unknown as Opts;
      const stats = o.standardize ? columnStats(spec.sample(STATS_DRAW, o, new Rng(STATS_SEED)), STATS_DRAW, 2) : undefined;
      const draw = (n: number, rng: Rng, labels?: Int32Array) => {
        const x = spec.sample(n, o, rng, labels);
        return stats ? standardizeInPlace(x, stats) : x;
      };
      const base: Dataset = {
        name: spec.name,
        shape: [2],
        info: mapInfo(stats, spec.modes?.(o), spec.mixture?.(o)),
        load(rng: Rng): TrainingSet {
          const data = draw(o.size, rng);
          return o.fresh ? { data, count: o.size, fresh: draw } : { data, count: o.size };
        },
        reference: (n: number, rng: Rng) => draw(n, rng),
      };
      const labelNames = spec.classNames?.(o);
      if (!labelNames) return base;
      const labeled = (n: number, rng: Rng): LabeledDraw => {
        const labels = new Int32Array(n);
        return { data: draw(n, rng, labels), labels };
      };
      return {
        ...base,
        labelNames,
        load(rng: Rng): TrainingSet {
          const { data, labels } = labeled(o.size, rng);
          return o.fresh ? { data, labels, count: o.size, fresh: draw, freshLabeled: labeled } : { data, labels, count: o.size };
        },
        labeledReference: labeled,
        labeledPerfectDraw: labeled,
      };
    },
  });
}
