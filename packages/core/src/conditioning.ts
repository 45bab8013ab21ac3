/**
 * Class conditioning with classifier-free guidance (Ho & Salimans 2022): the `conditioning:` block of
 * a config, the label dropout that trains the unconditional model beside the conditional one, and
 * the labels a sampling run asks for. A conditional model has `labelNames.length` classes plus one
 * "null" class, index K = labelNames.length, that stands for "no label" (ε̂_u).
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';
import type { Rng } from './rng.js';

/** `conditioning:` — whether the denoiser sees the dataset's class labels, and how often training hides them. */
export const conditioningSchema = z
  .object({
    enabled: z.boolean().default(false).describe("Train a class-conditional model on the dataset's labels (the dataset must provide labels)"),
    dropout: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe(
        'Probability that training replaces a label by the null class, so the same model also learns the unconditional prediction that guidance needs (Ho & Salimans 2022 use 0.1–0.2)',
      ),
  })
  .strict();

/** The parsed `conditioning:` block. */
export type ConditioningConfig = z.output<typeof conditioningSchema>;

/** The null ("unconditional") class of a model with K classes: index K, one past the real ones. */
export function nullClass(labelNames: readonly string[]): number {
  return labelNames.length;
}

/**
 * The labels one training batch feeds the model: the rows' own classes, each replaced by the null
 * class with probability `dropout` (Ho & Salimans 2022, Algorithm 1, p_uncond). One uniform draw
 * per row from `rng`, so the run stays reproducible.
 */
export function dropLabels(labels: ArrayLike<number>, rows: ArrayLike<number>, dropout: number, nullIndex: number, rng: Rng): Int32Array {
  const out = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = rng.uniform() < dropout ? nullIndex : labels[rows[i]];
  return out;
}

/** `evaluation.classes` as written: all classes equally (`all`), one class, or a list. */
export type ClassesSpec = 'all' | number | string | readonly (number | string)[];

/** The schema of `evaluation.classes`: class indices or names. */
export const classesSchema = z
  .union([z.literal('all'), z.number().int().min(0), z.string().min(1), z.array(z.union([z.number().int().min(0), z.string().min(1)])).min(1)])
  .describe('Classes a conditional model generates: `all` (the default: every class, equal shares), one class, or a list (index or name), shared out equally');

/**
 * The class of each of n generated samples: the chosen classes in equal contiguous blocks (sizes
 * differ by at most one), so per-class figures and metrics read each block directly.
 * Names are looked up in `labelNames`; a class that does not exist is a ConfigError at `path`.
 */
export function requestedLabels(spec: ClassesSpec, labelNames: readonly string[], n: number, path = 'evaluation.classes'): Int32Array {
  const list = spec === 'all' ? labelNames.map((_, k) => k) : (Array.isArray(spec) ? spec : [spec]).map((c) => classIndex(c as number | string, labelNames, path));
  const out = new Int32Array(n);
  const m = list.length;
  for (let i = 0; i < n; i++) out[i] = list[Math.floor((i * m) / n)];
  return out;
}

/** One class by index or name, checked against the label set. */
function classIndex(c: number | string, labelNames: readonly string[], path: string): number {
  const k = typeof c === 'number' ? c : labelNames.indexOf(c);
  if (k >= 0 && k < labelNames.length && Number.isInteger(k)) return k;
  throw new ConfigError({
    path,
    message: `${JSON.stringify(c)} is not a class of this dataset; it has ${labelNames.length} classes (indices 0–${labelNames.length - 1})`,
    choices: labelNames,
  });
}
