/**
 * Mode coverage for mixture-like data (the "modes" statistics of Metz et al. 2017 and Srivastava
 * et al. 2017, VEEGAN): each generated sample goes to its nearest mode centre; we report the share
 * of samples per mode, how many modes are (nearly) missed, how many samples land far from every
 * mode, and as the value the total-variation distance
 *   TV(f, w) = ½ Σ_k |f_k − w_k|
 * between the observed mode fractions f and the expected mixture weights w (0 = perfect balance).
 */
import { type DatasetInfo, definePlugin, type Metric, PluginError, z } from '@diffusionlab/core';
import { prepare } from './util.js';

/** Mode centres, expected weights and on-mode radii, as read from a dataset's info. */
export interface ModeSpec {
  /** Centres, each of length D. */
  centers: number[][];
  /** Expected share of samples per centre (sums to 1). */
  weights: number[];
  /** Radius per centre within which a sample counts as on that mode. */
  radius: number[];
}

/** Multiple of a mixture component's (largest) std that counts as "on" the component. */
export const DEFAULT_STD_MULTIPLIER = 3;

/**
 * Reads the modes from `info`: a Gaussian mixture gives centres = means, weights = mixture weights
 * and radius = 3 × the component's largest per-dimension std; otherwise `info.modes.centers` with
 * uniform weights and `info.modes.radius`, or, lacking one, half the smallest distance between two
 * centres. A `radius` argument overrides both. Throws a PluginError when the dataset has no modes.
 */
export function modeSpec(info: DatasetInfo, d: number, radius?: number): ModeSpec {
  let centers: number[][];
  let weights: number[];
  let radii: number[];
  if (info.mixture) {
    centers = info.mixture.means;
    const total = info.mixture.weights.reduce((s, w) => s + w, 0);
    weights = info.mixture.weights.map((w) => w / total);
    radii = info.mixture.stds.map((s) => DEFAULT_STD_MULTIPLIER * Math.max(...s));
    if (info.modes?.radius !== undefined) radii = centers.map(() => info.modes?.radius as number);
  } else if (info.modes) {
    centers = info.modes.centers;
    weights = centers.map(() => 1 / centers.length);
    const r = info.modes.radius ?? halfMinSpacing(centers);
    radii = centers.map(() => r);
  } else {
    throw new PluginError('Metric "modes": the dataset describes no modes (its info has neither mixture.means nor modes.centers).', {
      hint: 'Use the modes metric only with mixture or toy datasets that declare their modes (e.g. gaussian-mixture), or remove it from metrics.',
    });
  }
  if (radius !== undefined) radii = centers.map(() => radius);
  if (centers.length === 0) throw new PluginError('Metric "modes": the dataset declares an empty list of mode centres.');
  if (weights.length !== centers.length || radii.length !== centers.length) {
    throw new PluginError(`Metric "modes": the dataset declares ${centers.length} centres but ${weights.length} weights / ${radii.length} stds.`);
  }
  for (const [k, c] of centers.entries()) {
    if (c.length !== d) {
      throw new PluginError(`Metric "modes": mode centre ${k} has ${c.length} coordinates but samples have ${d}.`, {
        hint: 'The dataset info and the sample shape disagree; check the dataset plugin.',
      });
    }
  }
  return { centers, weights, radius: radii };
}

function halfMinSpacing(centers: number[][]): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < centers.length; i++) {
    for (let j = i + 1; j < centers.length; j++) {
      let s = 0;
      for (let c = 0; c < centers[i].length; c++) s += (centers[i][c] - centers[j][c]) ** 2;
      if (s > 0) best = Math.min(best, Math.sqrt(s));
    }
  }
  return best / 2;
}

/** Result of {@link assignModes}. */
export interface ModeAssignment {
  /** Samples whose nearest centre is k (ties go to the lower index). */
  counts: number[];
  /** Samples farther than radius_k from every centre k. */
  offSupport: number;
}

/** Nearest-centre assignment of the rows of a [n, d] array, and the count of samples off every mode. */
export function assignModes(x: Float32Array, d: number, centers: readonly (readonly number[])[], radius: readonly number[]): ModeAssignment {
  const n = x.length / d;
  const K = centers.length;
  const counts = new Array<number>(K).fill(0);
  const r2 = radius.map((r) => r * r);
  let offSupport = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Number.POSITIVE_INFINITY;
    let on = false;
    for (let k = 0; k < K; k++) {
      let s = 0;
      const c = centers[k];
      for (let j = 0; j < d; j++) {
        const t = x[i * d + j] - c[j];
        s += t * t;
      }
      if (s < bestD) {
        bestD = s;
        best = k;
      }
      if (s <= r2[k]) on = true;
    }
    counts[best]++;
    if (!on) offSupport++;
  }
  return { counts, offSupport };
}

/** Total-variation distance ½ Σ|p_k − q_k| between two discrete distributions of equal length. */
export function totalVariation(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new RangeError(`total variation needs equal lengths, got ${p.length} and ${q.length}.`);
  let s = 0;
  for (let k = 0; k < p.length; k++) s += Math.abs(p[k] - q[k]);
  return s / 2;
}

/** Options of the `modes` metric. */
export const modesOptions = z
  .object({
    radius: z
      .number()
      .positive('radius must be > 0')
      .optional()
      .describe(
        'Distance from a centre within which a sample is "on" that mode; default info.modes.radius, else 3 × the component std (mixtures), else half the smallest centre spacing.',
      ),
    missedThreshold: z.number().min(0).max(1).default(0.25).describe('A mode is missed when its share of samples is below this fraction of its expected weight.'),
  })
  .strict();

/**
 * The `modes` metric. value = TV(mode fractions, expected weights). details: `modeFractions`
 * (share of samples nearest to each centre, in centre order; all samples are assigned, on or off
 * support), `expectedWeights`, `missedModes` (modes with fraction < missedThreshold × weight),
 * `offSupport` (share of samples farther than the radius from every centre) and `radius`.
 * Centres are compared with the samples as given, so both must be in the same space.
 */
export const modesMetric = definePlugin({
  kind: 'metric',
  name: 'modes',
  description: 'Mode coverage on mixtures: TV distance of nearest-mode fractions to the mixture weights, plus missed modes and off-support share.',
  options: modesOptions,
  create(options): Metric {
    return {
      name: 'modes',
      higherIsBetter: false,
      check(ctx) {
        modeSpec(
          ctx.info,
          ctx.shape.reduce((a, b) => a * b, 1),
          options.radius,
        );
      },
      compute(generated, reference, ctx) {
        const { d, n, early } = prepare('modes', generated, reference, ctx);
        const spec = modeSpec(ctx.info, d, options.radius);
        if (early) return early;
        const { counts, offSupport } = assignModes(generated, d, spec.centers, spec.radius);
        const modeFractions = counts.map((c) => c / n);
        let missedModes = 0;
        for (let k = 0; k < counts.length; k++) if (modeFractions[k] < options.missedThreshold * spec.weights[k]) missedModes++;
        return {
          value: totalVariation(modeFractions, spec.weights),
          details: { modeFractions, expectedWeights: spec.weights, missedModes, offSupport: offSupport / n, radius: spec.radius },
        };
      },
    };
  },
});
