// The fused U-Net training step on 1 vs N threads (training.threads, issue 16), alternated in one
// process so a busy machine affects both alike: `node scripts/bench/unet-threads.mjs [rounds] [steps]`
// after `pnpm build`. The unet-train workloads' model (channels 16 and 32, multipliers [1, 2]) on
// 14×14×1, batch 32, random data (the data does not change the cost); prints steps/s per round and
// the median of each, and how long the calling thread waited for the worker per step.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// the packages as the runner resolves them (one tfjs-core instance)
const require = createRequire(join(import.meta.dirname, '..', '..', 'apps', 'runner', 'package.json'));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);
const tf = await load('@tensorflow/tfjs-core');
await load('@tensorflow/tfjs-backend-cpu');
const dist = (dir) => import(pathToFileURL(join(import.meta.dirname, '..', '..', dir, 'dist', 'index.js')).href);
const { Rng, scheduleFromBetas } = await dist('packages/core');
const { buildUnet, unetOptions } = await dist('packages/denoisers');
const { createFusedUnetTrainer } = await dist('packages/kernels');

const rounds = Number(process.argv[2] ?? 5);
const steps = Number(process.argv[3] ?? 20);
const threadCounts = (process.argv[4] ?? '1,2').split(',').map(Number);
const channelsList = (process.argv[5] ?? '16,32').split(',').map(Number);
await tf.setBackend('cpu');
const T = 1000;
const schedule = scheduleFromBetas(
  'linear',
  Float64Array.from({ length: T }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / (T - 1)),
);
const shape = [14, 14, 1];
const D = 196;
const n = 32;
const rng = new Rng(1);
const batches = Array.from({ length: 4 }, () => ({
  xt: Float32Array.from({ length: n * D }, () => rng.normal()),
  t: Float32Array.from({ length: n }, () => rng.int(T)),
  target: Float32Array.from({ length: n * D }, () => rng.normal()),
  size: n,
}));
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const channels of channelsList) {
  const model = buildUnet(unetOptions.parse({ channels }), { dataShape: shape, schedule, predictionType: 'epsilon', rng: new Rng(3) });
  const trainers = threadCounts.map((threads) => {
    const tr = createFusedUnetTrainer(model.describe(), {
      optimizer: 'adam',
      learningRate: 2e-4,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: 0,
      backend: 'cpu',
      threads,
    });
    if (typeof tr === 'string') throw new Error(tr);
    for (let i = 0; i < 3; i++) tr.step(batches[i % 4]); // warm-up (workers start, traces recorded)
    return tr;
  });
  const rates = threadCounts.map(() => []);
  const cpu = threadCounts.map(() => 0);
  const profiles = trainers.map((tr) => {
    const p = tr.workers?.profile;
    return p ? { ...p } : null;
  });
  for (let r = 0; r < rounds; r++) {
    trainers.forEach((tr, k) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) tr.step(batches[i % 4]);
      rates[k].push((1000 * steps) / (performance.now() - t0));
      const c = process.cpuUsage(c0);
      cpu[k] += (c.user + c.system) / 1000;
    });
  }
  threadCounts.forEach((threads, k) => {
    const p = trainers[k].workers?.profile;
    const p0 = profiles[k];
    const per = (key) => ((p[key] - p0[key]) / (p.steps - p0.steps)).toFixed(2);
    const sync = p ? `; calling thread per step: send ${per('send')} ms, wait ${per('wait')} ms, fold ${per('fold')} ms` : '';
    console.log(
      `unet-train channels ${channels} threads ${threads}: ${median(rates[k]).toFixed(2)} steps/s (median of ${rounds} × ${steps} steps; rounds ${rates[k].map((x) => x.toFixed(2)).join(' ')}); CPU ${(cpu[k] / (rounds * steps)).toFixed(1)} ms/step over all threads${sync}`,
    );
  });
  console.log(`unet-train channels ${channels}: threads ${threadCounts.at(-1)} / threads ${threadCounts[0]} = ${(median(rates.at(-1)) / median(rates[0])).toFixed(2)}×`);
  for (const tr of trainers) tr.dispose();
  model.dispose();
}
