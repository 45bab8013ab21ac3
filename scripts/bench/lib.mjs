// Shared pieces of `pnpm bench`: loading the built packages, repetition statistics, memory
// readings and the one-line report format. Benchmarks import the packages' dist/ (run `pnpm build`
// first), exactly what a user of the published packages runs.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * tfjs-core as the packages resolve it: they import '@tensorflow/tfjs-core' by name, and resolving
 * it from the runner gives the same file, so the same module (one engine, one kernel registry).
 */
export function loadTf(root) {
  const require = createRequire(join(root, 'apps', 'runner', 'package.json'));
  return import(pathToFileURL(require.resolve('@tensorflow/tfjs-core')).href);
}

/** Imports every package the workloads need from its dist/ (what users of the packages run). */
export async function loadModules(root) {
  const dist = (dir) => {
    const p = join(root, dir, 'dist', 'index.js');
    if (!existsSync(p)) throw new Error(`${dir} is not built (no dist/index.js): run \`pnpm build\` first`);
    return import(pathToFileURL(p).href);
  };
  const [tf, core, kernels, runner] = await Promise.all([loadTf(root), dist('packages/core'), dist('packages/kernels'), dist('apps/runner')]);
  return { tf, core, kernels, runner };
}

/** Median (upper middle for even counts), min and max of a list of numbers. */
export function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

let gcFn = null;

/** A full garbage collection (V8's gc, exposed at run time), so RSS readings compare like with like. */
export function collectGarbage() {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc');
  }
  gcFn();
}

/** Resident set size in MB. */
export function rssMB() {
  return process.memoryUsage().rss / 2 ** 20;
}

/**
 * Runs `fn` and returns its result with wall and process CPU seconds (all threads): on a shared
 * machine the CPU time is what the work really cost, the wall time what a user waits.
 */
export async function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { result, seconds, cpuSeconds: (c.user + c.system) / 1e6 };
}

/** A value with its unit, with about three significant digits for small rates. */
function fmt(v, unit) {
  if (unit === 's') return v < 10 ? `${(v * 1000).toFixed(1)} ms` : `${v.toFixed(2)} s`;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
}

/** The printed line for one bench.json entry. */
export function formatLine(e) {
  const head = `${e.name.padEnd(24)} ${e.backend.padEnd(7)} ${e.path.padEnd(24)}`;
  const range = e.reps > 1 ? `  (min ${fmt(e.min, e.unit)}, max ${fmt(e.max, e.unit)}, n=${e.reps})` : '';
  const tensors = e.numTensorsBefore === e.numTensorsAfter ? '' : `  numTensors ${e.numTensorsBefore} → ${e.numTensorsAfter} (LEAK)`;
  const cpu = e.cpuMedian !== undefined ? `  [per CPU-second: ${fmt(e.cpuMedian, e.unit)}]` : '';
  const extra = e.note ? `  ${e.note}` : '';
  return `${head} ${fmt(e.median, e.unit).padStart(13)}${range}${cpu}${tensors}${extra}`;
}

/**
 * Runs `once` after `warmup` unmeasured calls, `reps` times, and returns the bench.json entry with
 * tfjs's tensor count around the measured repetitions. `once(rep)` returns `{ value, cpuValue }`:
 * the measurement in `unit` from wall time, and the same from CPU time.
 */
export async function measure(tf, { name, backend, path, unit, reps, warmup = 1, once, note }) {
  for (let i = 0; i < warmup; i++) await once(-1 - i);
  const numTensorsBefore = tf.memory().numTensors;
  const values = [];
  const cpuValues = [];
  for (let r = 0; r < reps; r++) {
    const { value, cpuValue } = await once(r);
    values.push(value);
    cpuValues.push(cpuValue);
  }
  const numTensorsAfter = tf.memory().numTensors;
  const round = (v) => +v.toPrecision(5);
  return {
    name,
    backend,
    path,
    unit,
    ...stats(values),
    numTensorsBefore,
    numTensorsAfter,
    reps,
    values: values.map(round),
    cpuMedian: round(stats(cpuValues).median),
    ...(note ? { note } : {}),
  };
}
