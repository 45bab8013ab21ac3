// Benchmark (not a test): the fused WebAssembly SIMD MLP kernels against plain tfjs on the wasm
// backend, for the seed example (Linear(2→128)→SiLU→Linear(128→128)→SiLU→Linear(128→1), batch 32,
// Adam) and for sampling 1000 points × 100 DDPM steps. Needs `pnpm build` first (imports dist/).
// Usage: node bench/train.mjs [--quick]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-wasm';
import { Rng, scheduleFromBetas } from '@diffusionlab/core';
import { createFusedMlpTrainer, installMatMulGradientFix, sampleDdpmFused, sampleDdpmFusedParallel, uninstallMatMulGradientFix } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const REPS = quick ? 3 : 5;
/** CPU time of this thread-ish process (ms): on a loaded machine, the time the work really ran. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await tf.setBackend('wasm');
await tf.ready();

function seedMlp(seed) {
  const rng = new Rng(seed);
  const widths = [2, 128, 128, 1];
  const layers = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    const [a, b] = [widths[l], widths[l + 1]];
    const lim = Math.sqrt(1 / a);
    layers.push({
      kernel: tf.variable(
        tf.tensor2d(
          Float32Array.from({ length: a * b }, () => (2 * rng.uniform() - 1) * lim),
          [a, b],
        ),
      ),
      bias: tf.variable(tf.tensor1d(Float32Array.from({ length: b }, () => (2 * rng.uniform() - 1) * lim))),
    });
  }
  return { kind: 'plain-mlp', input: 'concat-raw-t', activation: 'silu', layers };
}

const schedule = scheduleFromBetas(
  'linear',
  Float64Array.from({ length: 100 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 99),
);
function batches(count, n, seed) {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const xt = new Float32Array(n),
      t = new Float32Array(n),
      target = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const ti = rng.int(100);
      const x0 = (rng.uniform() < 0.5 ? -2 : 2) + 0.5 * rng.normal();
      const e = rng.normal();
      t[i] = ti;
      xt[i] = Math.sqrt(schedule.alphasCumprod[ti]) * x0 + Math.sqrt(1 - schedule.alphasCumprod[ti]) * e;
      target[i] = e;
    }
    return { xt, t, target, size: n };
  });
}

function report(name, values, unit, cpuValues) {
  const m = median(values);
  const cpu = cpuValues ? `; per CPU-second ${unit === 'steps/s' ? median(cpuValues).toFixed(0) + ' steps/s' : (median(cpuValues) * 1000).toFixed(1) + ' ms CPU'}` : '';
  console.log(
    `${name.padEnd(44)} ${unit === 'steps/s' ? m.toFixed(0).padStart(7) : (m * 1000).toFixed(1).padStart(7)} ${unit === 'steps/s' ? 'steps/s' : 'ms'}  (min ${unit === 'steps/s' ? Math.min(...values).toFixed(0) : (Math.min(...values) * 1000).toFixed(1)}, max ${unit === 'steps/s' ? Math.max(...values).toFixed(0) : (Math.max(...values) * 1000).toFixed(1)}, n=${values.length}${cpu})`,
  );
}

// --- fused train step
{
  const desc = seedMlp(1);
  const tr = createFusedMlpTrainer(desc, { optimizer: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, backend: 'wasm' });
  const bs = batches(1000, 32, 2);
  for (let i = 0; i < 500; i++) tr.step(bs[i % bs.length]);
  const rates = [];
  const steps = quick ? 2000 : 5000;
  const cpuRates = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    for (let i = 0; i < steps; i++) tr.step(bs[i % bs.length]);
    rates.push(steps / ((performance.now() - t0) / 1000));
    cpuRates.push(steps / ((cpuMs() - c0) / 1000));
  }
  tr.takeLossSum();
  tr.syncToModel();
  report('seed-train fused wasm-simd (batch 32)', rates, 'steps/s', cpuRates);
  tr.dispose();
}

// --- plain tfjs on the wasm backend, with and without the matMul gradient fix
for (const fix of [false, true]) {
  if (fix) installMatMulGradientFix();
  else uninstallMatMulGradientFix();
  const desc = seedMlp(1);
  const vars = desc.layers.flatMap((l) => [l.kernel, l.bias]);
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const bs = batches(200, 32, 2);
  const step = (b) =>
    tf.tidy(() => {
      const xt = tf.tensor2d(b.xt, [32, 1]);
      const t = tf.tensor2d(b.t, [32, 1]);
      const target = tf.tensor2d(b.target, [32, 1]);
      opt.minimize(
        () => {
          let h = tf.concat([xt, t], 1);
          desc.layers.forEach(({ kernel, bias }, l) => {
            h = tf.add(tf.matMul(h, kernel), bias);
            if (l < 2) h = tf.mul(tf.sigmoid(h), h);
          });
          return tf.mean(tf.squaredDifference(h, target));
        },
        false,
        vars,
      );
    });
  for (let i = 0; i < 100; i++) step(bs[i % bs.length]);
  const before = tf.memory().numTensors; // after warm-up: Adam's moments exist now
  const rates = [];
  const steps = quick ? 300 : 600;
  const cpuRates = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    for (let i = 0; i < steps; i++) step(bs[i % bs.length]);
    rates.push(steps / ((performance.now() - t0) / 1000));
    cpuRates.push(steps / ((cpuMs() - c0) / 1000));
  }
  if (tf.memory().numTensors !== before) console.warn(`tensor count grew: ${before} → ${tf.memory().numTensors}`);
  report(`seed-train tfjs-wasm minimize${fix ? ' + matMul fix' : ''}`, rates, 'steps/s', cpuRates);
  opt.dispose();
  vars.forEach((v) => v.dispose());
}
uninstallMatMulGradientFix();

// --- sampling: 1000 points × 100 DDPM steps
{
  const desc = seedMlp(3);
  for (const threads of [1, 2]) {
    const times = [];
    const cpus = [];
    for (let r = 0; r < REPS + 1; r++) {
      const t0 = performance.now();
      const c0 = cpuMs();
      if (threads === 1) sampleDdpmFused({ description: desc, schedule, n: 1000, rng: new Rng(r) });
      else await sampleDdpmFusedParallel({ description: desc, schedule, n: 1000, rng: new Rng(r), threads });
      if (r > 0) {
        times.push((performance.now() - t0) / 1000);
        cpus.push((cpuMs() - c0) / 1000);
      }
    }
    report(`seed-sample fused wasm-simd, ${threads} thread${threads > 1 ? 's' : ''} (1000 × 100)`, times, 's', threads === 1 ? cpus : undefined);
  }
  // tfjs-wasm forward for comparison (the DDPM update arithmetic on CPU typed arrays)
  const fwd = (x, t) =>
    tf.tidy(() => {
      let h = tf.concat([tf.tensor2d(x, [1000, 1]), tf.fill([1000, 1], t)], 1);
      desc.layers.forEach(({ kernel, bias }, l) => {
        h = tf.add(tf.matMul(h, kernel), bias);
        if (l < 2) h = tf.mul(tf.sigmoid(h), h);
      });
      return h.dataSync();
    });
  const tt = [];
  const tc = [];
  for (let r = 0; r < (quick ? 2 : 3); r++) {
    const x = new Rng(r).normalArray(1000);
    const t0 = performance.now();
    const c0 = cpuMs();
    for (let t = 99; t >= 0; t--) {
      const e = fwd(x, t);
      for (let i = 0; i < 1000; i++) x[i] = (x[i] - e[i] * 0.01) * 1.001;
    }
    tt.push((performance.now() - t0) / 1000);
    tc.push((cpuMs() - c0) / 1000);
  }
  report('seed-sample tfjs-wasm forward (1000 × 100)', tt, 's', tc);
}
