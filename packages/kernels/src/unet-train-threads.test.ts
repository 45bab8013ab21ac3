// Data-parallel U-Net steps (unet-train-threads.ts): the rows split over worker threads give the
// one-thread loss and gradients up to float summation order, Adam keeps every instance's weights
// identical across steps, and a failing worker ends the step with its error instead of hanging.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng, type UnetDescription } from '@diffusionlab/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AcceleratorTrainOptions } from './fused-adam.js';
import { maxAbsDiff } from './test/compare.js';
import { unetLayers, unetShape, type UnetShape } from './unet-network.js';
import { createFusedUnetTrainer, type FusedUnetTrainer } from './unet-train.js';
import { resolveTrainThreads, type UnetGradWorkers } from './unet-train-threads.js';

const ADAM: AcceleratorTrainOptions = { optimizer: 'adamw', learningRate: 2e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, gradClipNorm: 1, backend: 'cpu' };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A U-Net description with He-scaled random weights (variables; the caller disposes them). */
function makeUnet(s: Omit<UnetShape, 'numTrainTimesteps'>, seed = 4): UnetDescription {
  const rng = new Rng(seed);
  const shape: UnetShape = { ...s, numTrainTimesteps: 100 };
  const layers = unetLayers(shape).map((d) => {
    const size = d.k * d.k * d.cin * d.cout;
    const scale = Math.sqrt(2 / (d.k * d.k * d.cin));
    const w = Float32Array.from({ length: size }, () => scale * rng.normal());
    const b = Float32Array.from({ length: d.cout }, () => 0.05 * rng.normal());
    return {
      name: d.name,
      kernel: tf.variable(tf.tensor(w, d.kind === 'conv' ? [d.k, d.k, d.cin, d.cout] : [d.cin, d.cout])),
      bias: tf.variable(tf.tensor1d(b)),
    };
  });
  const desc: UnetDescription = {
    kind: 'unet',
    dataShape: [s.H, s.W, s.C],
    numTrainTimesteps: 100,
    channels: s.channels,
    channelMultipliers: s.channelMultipliers,
    blocksPerLevel: s.blocksPerLevel,
    timeEmbedding: s.timeEmbedding,
    activation: s.activation,
    layers,
  };
  expect(typeof unetShape(desc)).toBe('object');
  return desc;
}

function randomBatch(n: number, D: number, seed: number) {
  const rng = new Rng(seed);
  return {
    xt: Float32Array.from({ length: n * D }, () => rng.normal()),
    t: Float32Array.from({ length: n }, () => rng.int(100)),
    target: Float32Array.from({ length: n * D }, () => rng.normal()),
    size: n,
  };
}

function trainer(desc: UnetDescription, threads: number | 'auto'): FusedUnetTrainer {
  const tr = createFusedUnetTrainer(desc, { ...ADAM, threads });
  if (typeof tr === 'string') throw new Error(tr);
  return tr;
}

/** Largest |a − b| relative to the largest |b|. */
function relDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

const live: { dispose(): void }[] = [];
afterEach(() => {
  for (const x of live.splice(0)) x.dispose();
});

describe('fused U-Net on several threads', () => {
  const shapes: Omit<UnetShape, 'numTrainTimesteps'>[] = [
    { H: 8, W: 8, C: 1, channels: 8, channelMultipliers: [1, 2], blocksPerLevel: 1, timeEmbedding: 16, activation: 'silu' },
    { H: 8, W: 8, C: 2, channels: 4, channelMultipliers: [1, 2, 3], blocksPerLevel: 2, timeEmbedding: 8, activation: 'gelu' },
  ];
  for (const s of shapes) {
    for (const [threads, n] of [
      [2, 8],
      [2, 7],
      [3, 10],
    ] as const) {
      it(`one step's loss and gradients within 1e-5 of one thread: ${threads} threads, batch ${n}, ${s.activation} ${JSON.stringify(s.channelMultipliers)}`, () => {
        const desc = makeUnet(s);
        live.push({ dispose: () => desc.layers.forEach((l) => tf.dispose([l.kernel, l.bias])) });
        const one = trainer(desc, 1);
        const par = trainer(desc, threads);
        live.push(one, par);
        expect(par.threads).toBe(threads);
        const D = s.H * s.W * s.C;
        // three steps: the worker weights must follow Adam's updates (sent with each step)
        for (let step = 0; step < 3; step++) {
          const batch = randomBatch(n, D, 10 + step);
          const l1 = one.computeGradients(batch);
          const l2 = par.computeGradients(batch);
          expect(Math.abs(l2 - l1)).toBeLessThan(1e-5 * l1);
          const g1 = one.readGradients().flatMap((g) => [g.kernel, g.bias]);
          const g2 = par.readGradients().flatMap((g) => [g.kernel, g.bias]);
          g1.forEach((g, i) => expect(relDiff(g2[i], g)).toBeLessThan(1e-5));
          one.step(batch);
          par.step(batch);
          // Adam's update is ≈ ±lr wherever |g| ≫ √v̂·ε, so a near-zero gradient entry whose last bits
          // differ may move by up to 2·lr per step; every other entry agrees far more closely
          const w1 = one.weights().flatMap((g) => [g.kernel, g.bias]);
          const w2 = par.weights().flatMap((g) => [g.kernel, g.bias]);
          w1.forEach((w, i) => expect(maxAbsDiff(w2[i], w)).toBeLessThanOrEqual(2 * ADAM.learningRate * (step + 1)));
        }
      });
    }
  }

  it('a batch of one row, and threads over the row count, run on fewer threads', () => {
    const desc = makeUnet(shapes[0]);
    live.push({ dispose: () => desc.layers.forEach((l) => tf.dispose([l.kernel, l.bias])) });
    const one = trainer(desc, 1);
    const par = trainer(desc, 4);
    live.push(one, par);
    for (const n of [1, 3]) {
      const batch = randomBatch(n, 64, n);
      const l1 = one.computeGradients(batch);
      expect(Math.abs(par.computeGradients(batch) - l1)).toBeLessThan(1e-5 * l1);
    }
  });

  it("an error inside a worker ends the step with the worker's message, and the threads are stopped", () => {
    const desc = makeUnet(shapes[0]);
    live.push({ dispose: () => desc.layers.forEach((l) => tf.dispose([l.kernel, l.bias])) });
    const tr = trainer(desc, 2);
    live.push(tr);
    const batch = randomBatch(4, 64, 1);
    tr.step(batch);
    const workers = (tr as unknown as { workers: UnetGradWorkers }).workers;
    expect(workers.running).toBe(1);
    expect(() => workers.failNextSetup(0, 'boom in the worker')).toThrow(/U-Net training worker thread failed: Error: boom in the worker/);
    expect(workers.running).toBe(0);
    // the trainer does not silently continue on fewer threads
    expect(() => tr.step(batch)).toThrow(/worker thread failed: Error: boom/);
  });

  it('outside Node it trains on one thread and says so', () => {
    const proc = process as unknown as { getBuiltinModule?: unknown };
    const real = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined;
    try {
      expect(resolveTrainThreads(2)).toEqual({ threads: 1, note: expect.stringMatching(/worker threads need Node .* this run trains on one thread/) });
      const desc = makeUnet(shapes[0]);
      live.push({ dispose: () => desc.layers.forEach((l) => tf.dispose([l.kernel, l.bias])) });
      const tr = trainer(desc, 'auto');
      live.push(tr);
      expect(tr.threads).toBe(1);
      expect(tr.notes).toMatch(/training.threads auto: .* one thread/);
      const batch = randomBatch(4, 64, 1);
      tr.step(batch);
      expect((tr as unknown as { workers: unknown }).workers).toBeNull();
    } finally {
      proc.getBuiltinModule = real;
    }
  });

  it("resolves 'auto' to min(2, cores) and keeps 1 as the default", () => {
    expect(resolveTrainThreads(undefined)).toEqual({ threads: 1 });
    expect(resolveTrainThreads(1)).toEqual({ threads: 1 });
    expect(resolveTrainThreads(3)).toEqual({ threads: 3 });
    const auto = resolveTrainThreads('auto').threads;
    expect(auto).toBeGreaterThanOrEqual(1);
    expect(auto).toBeLessThanOrEqual(2);
    expect(() => resolveTrainThreads(0)).toThrow(/not a positive integer/);
  });
});
