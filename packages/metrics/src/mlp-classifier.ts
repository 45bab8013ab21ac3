/**
 * A one-hidden-layer softmax classifier in plain TypeScript on Float32Arrays, trained with
 * minibatch Adam (Kingma & Ba 2015, Algorithm 1) on the cross-entropy loss:
 *   h = ReLU(x·W₁ + b₁),  p = softmax(h·W₂ + b₂),  L = −(1/B) Σ_i log p_i[y_i].
 * Backprop: ∂L/∂z₂ = (p − onehot(y))/B, ∂L/∂W₂ = hᵀ·∂z₂, ∂L/∂h = ∂z₂·W₂ᵀ ⊙ 1[h > 0],
 * ∂L/∂W₁ = xᵀ·∂h. It is what the `digit-classifier` metric scores samples with: small enough to
 * train in seconds on a CPU, and free of tfjs so metrics stay backend-independent.
 */
import { Rng } from '@diffusionlab/core';

/** Weights of a trained classifier, row-major: w1 [inputs, hidden], w2 [hidden, classes]. */
export interface MlpClassifierWeights {
  inputs: number;
  hidden: number;
  classes: number;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

/** Training settings of {@link trainMlpClassifier}; defaults suit MNIST-sized inputs in [0, 1]. */
export interface MlpTrainOptions {
  hidden?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Seeds initialisation and the per-epoch shuffle, so a classifier is reproducible. */
  seed?: number;
}

/** He-initialised weights (Var w = 2/fan_in, He et al. 2015), zero biases, for ReLU layers. */
export function initMlpClassifier(inputs: number, hidden: number, classes: number, rng: Rng): MlpClassifierWeights {
  const w1 = new Float32Array(inputs * hidden);
  const w2 = new Float32Array(hidden * classes);
  const s1 = Math.sqrt(2 / inputs);
  const s2 = Math.sqrt(2 / hidden);
  for (let i = 0; i < w1.length; i++) w1[i] = s1 * rng.normal();
  for (let i = 0; i < w2.length; i++) w2[i] = s2 * rng.normal();
  return { inputs, hidden, classes, w1, b1: new Float32Array(hidden), w2, b2: new Float32Array(classes) };
}

/**
 * Hidden activations and class probabilities of `rows` inputs starting at row `start` of `x`
 * ([n, inputs]); zero inputs are skipped, which makes sparse images (MNIST is ~80% background) cheap.
 */
function forward(net: MlpClassifierWeights, x: Float32Array, index: ArrayLike<number>, start: number, rows: number, h: Float32Array, p: Float32Array): void {
  const { inputs: d, hidden: H, classes: C, w1, b1, w2, b2 } = net;
  for (let r = 0; r < rows; r++) {
    const xo = index[start + r] * d;
    const ho = r * H;
    h.set(b1, ho);
    for (let k = 0; k < d; k++) {
      const v = x[xo + k];
      if (v === 0) continue;
      const wo = k * H;
      for (let j = 0; j < H; j++) h[ho + j] += v * w1[wo + j];
    }
    const po = r * C;
    p.set(b2, po);
    for (let j = 0; j < H; j++) {
      let a = h[ho + j];
      if (a < 0) a = h[ho + j] = 0;
      if (a === 0) continue;
      const wo = j * C;
      for (let c = 0; c < C; c++) p[po + c] += a * w2[wo + c];
    }
    // Softmax with the max subtracted, so large logits do not overflow exp.
    let m = -Infinity;
    for (let c = 0; c < C; c++) if (p[po + c] > m) m = p[po + c];
    let s = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(p[po + c] - m);
      p[po + c] = e;
      s += e;
    }
    for (let c = 0; c < C; c++) p[po + c] /= s;
  }
}

/**
 * One forward pass over row-major inputs [n, inputs] in chunks, keeping one layer's output per row:
 * the hidden activations or the class probabilities. Why one loop: both readers must see the same pass.
 */
function forwardRows(net: MlpClassifierWeights, x: Float32Array, keep: 'hidden' | 'classes', caller: string): Float32Array {
  const n = x.length / net.inputs;
  if (!Number.isInteger(n)) throw new RangeError(`${caller}: ${x.length} values are not a whole number of ${net.inputs}-input rows.`);
  const width = keep === 'hidden' ? net.hidden : net.classes;
  const out = new Float32Array(n * width);
  const chunk = 256;
  const h = new Float32Array(chunk * net.hidden);
  const p = new Float32Array(chunk * net.classes);
  const kept = keep === 'hidden' ? h : p;
  const index = Uint32Array.from({ length: n }, (_, i) => i);
  for (let s = 0; s < n; s += chunk) {
    const rows = Math.min(chunk, n - s);
    forward(net, x, index, s, rows, h, p);
    out.set(kept.subarray(0, rows * width), s * width);
  }
  return out;
}

/** Class probabilities [n, classes] of row-major inputs [n, inputs]. */
export function predictProba(net: MlpClassifierWeights, x: Float32Array): Float32Array {
  return forwardRows(net, x, 'classes', 'predictProba');
}

/**
 * Hidden-layer activations h = ReLU(x·W₁ + b₁) [n, hidden] of row-major inputs [n, inputs]: the
 * classifier's penultimate-layer features, which `digit-frechet-distance` compares between generated
 * and real images (as FID compares Inception's pool features). Same forward pass as {@link predictProba}.
 */
export function hiddenActivations(net: MlpClassifierWeights, x: Float32Array): Float32Array {
  return forwardRows(net, x, 'hidden', 'hiddenActivations');
}

/** Share of rows whose most probable class equals the label. */
export function accuracy(net: MlpClassifierWeights, x: Float32Array, labels: ArrayLike<number>): number {
  const p = predictProba(net, x);
  const C = net.classes;
  let hit = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (p[i * C + c] > p[i * C + best]) best = c;
    if (best === labels[i]) hit++;
  }
  return hit / labels.length;
}

/** Adam moment buffers and step count for one parameter array. */
class AdamSlot {
  readonly m: Float32Array;
  readonly v: Float32Array;
  constructor(readonly param: Float32Array) {
    this.m = new Float32Array(param.length);
    this.v = new Float32Array(param.length);
  }

  /** One Adam update (β₁ = 0.9, β₂ = 0.999, ε = 1e-8) with bias correction folded into the step size. */
  step(grad: Float32Array, lr: number, t: number): void {
    const b1 = 0.9;
    const b2 = 0.999;
    const a = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    const { param, m, v } = this;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      param[i] -= (a * m[i]) / (Math.sqrt(v[i]) + 1e-8);
    }
  }
}

/**
 * Trains a classifier on row-major inputs x [n, inputs] with integer labels in [0, classes), by
 * minibatch Adam over `epochs` shuffled passes. Deterministic for a given seed.
 */
export function trainMlpClassifier(x: Float32Array, labels: ArrayLike<number>, classes: number, options: MlpTrainOptions = {}): MlpClassifierWeights {
  const { hidden = 128, epochs = 10, batchSize = 64, learningRate = 1e-3, seed = 0 } = options;
  const n = labels.length;
  if (n < 1 || x.length % n !== 0) throw new RangeError(`trainMlpClassifier: ${x.length} inputs do not split into ${n} labelled rows.`);
  const d = x.length / n;
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= classes)
      throw new RangeError(`trainMlpClassifier: label ${labels[i]} at row ${i} is not in [0, ${classes}).`);
  }
  const rng = new Rng(seed);
  const net = initMlpClassifier(d, hidden, classes, rng.fork('init'));
  const order = rng.fork('order');
  const H = hidden;
  const C = classes;
  const h = new Float32Array(batchSize * H);
  const p = new Float32Array(batchSize * C);
  const dh = new Float32Array(batchSize * H);
  const g = { w1: new Float32Array(net.w1.length), b1: new Float32Array(H), w2: new Float32Array(net.w2.length), b2: new Float32Array(C) };
  const adam = { w1: new AdamSlot(net.w1), b1: new AdamSlot(net.b1), w2: new AdamSlot(net.w2), b2: new AdamSlot(net.b2) };
  const index = Uint32Array.from({ length: n }, (_, i) => i);
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    order.shuffle(index);
    for (let s = 0; s < n; s += batchSize) {
      const B = Math.min(batchSize, n - s);
      forward(net, x, index, s, B, h, p);
      g.w1.fill(0);
      g.b1.fill(0);
      g.w2.fill(0);
      g.b2.fill(0);
      for (let r = 0; r < B; r++) {
        const po = r * C;
        const ho = r * H;
        // ∂L/∂z₂ = (p − onehot(y)) / B, written over p.
        p[po + labels[index[s + r]]] -= 1;
        for (let c = 0; c < C; c++) {
          p[po + c] /= B;
          g.b2[c] += p[po + c];
        }
        for (let j = 0; j < H; j++) {
          const a = h[ho + j];
          let back = 0;
          const wo = j * C;
          for (let c = 0; c < C; c++) back += p[po + c] * net.w2[wo + c];
          dh[ho + j] = a > 0 ? back : 0;
          if (a === 0) continue;
          for (let c = 0; c < C; c++) g.w2[wo + c] += a * p[po + c];
        }
        for (let j = 0; j < H; j++) g.b1[j] += dh[ho + j];
        const xo = index[s + r] * d;
        for (let k = 0; k < d; k++) {
          const v = x[xo + k];
          if (v === 0) continue;
          const wo = k * H;
          for (let j = 0; j < H; j++) g.w1[wo + j] += v * dh[ho + j];
        }
      }
      t++;
      adam.w1.step(g.w1, learningRate, t);
      adam.b1.step(g.b1, learningRate, t);
      adam.w2.step(g.w2, learningRate, t);
      adam.b2.step(g.b2, learningRate, t);
    }
  }
  return net;
}
