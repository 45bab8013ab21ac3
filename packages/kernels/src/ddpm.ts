/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2) for plain MLP denoisers, run entirely in
 * the fused WebAssembly kernels: x ← (x − βₜ/√(1−ᾱₜ)·ε̂)/√αₜ, then + σₜz for t > 0 with
 * σ²ₜ = βₜ(1−ᾱₜ₋₁)/(1−ᾱₜ) (DDPM eqs. 6–7). Rows never interact, so the parallel variant splits
 * them across worker threads; all noise is drawn up front on the calling thread, so every thread
 * count gives bit-identical samples.
 */
import {
  type DenoiserModel,
  type NoiseSchedule,
  type PlainMlpDescription,
  type PredictionType,
  posteriorVariance,
  type ReverseLoopDescription,
  type SamplingLoop,
} from '@diffusionlab/core';
import { ACTIVATION_CODE, mlpShape } from './describe.js';
import { kernelModule } from './wasm.js';

/** A source of standard normal draws (core's Rng fits). */
export interface NormalSource {
  normalArray(n: number, out?: Float32Array): Float32Array;
}

/** Inputs to {@link sampleDdpmFused}. */
export interface FusedDdpmParams {
  /** The model's structure and weights (read once, at the start). */
  description: PlainMlpDescription;
  schedule: NoiseSchedule;
  predictionType?: PredictionType;
  n: number;
  rng: NormalSource;
  /** Starting point x_T ([n, D]); drawn from N(0, I) with rng when absent. */
  xT?: Float32Array;
  /** σ²ₜ: β̃ₜ (fixed-small, the reference; default) or βₜ (fixed-large), Ho et al. 2020 §3.2. */
  variance?: 'fixed-small' | 'fixed-large';
  /**
   * Steps at which to copy the state, numbered as samplers report them: 0 is x_T, s is the state
   * after s updates (at t = T − 1 − s; T is the final sample). Only {@link sampleDdpmFusedTrajectory} returns them.
   */
  snapshotSteps?: readonly number[];
}

/** One copy of the state during sampling (the samplers' onStep numbering: t = −1 after the last step). */
export interface DdpmSnapshot {
  step: number;
  t: number;
  samples: Float32Array;
}

/** What {@link sampleDdpmFusedTrajectory} returns: the samples and the requested snapshots, in step order. */
export interface FusedDdpmTrajectory {
  samples: Float32Array;
  snapshots: DdpmSnapshot[];
}

/** One thread's share: everything plain data, so it can be posted to a worker. */
interface DdpmJob {
  widths: number[];
  act: number;
  /** kernel₀, bias₀, kernel₁, … */
  weights: Float32Array[];
  rows: number;
  D: number;
  x: Float32Array;
  /** (T − 1) draws of [rows, D], for t = T−1 … 1 in order. */
  noise: Float32Array;
  T: number;
  /** Per timestep: 1/√αₜ, βₜ/√(1−ᾱₜ), σₜ, √ᾱₜ, √(1−ᾱₜ). */
  coef: Float64Array;
  /** 0 ε, 1 x₀, 2 v. */
  type: number;
  /** Sorted steps (0 … T) at which to copy x. */
  snapSteps: number[];
}

/** A job's result: the final rows and one copy of them per snapshot step. */
interface DdpmJobResult {
  x: Float32Array;
  snaps: Float32Array[];
}

/**
 * Runs one job on a fresh kernel instance. Self-contained (no closures, no imports) because its
 * source is also what the worker threads evaluate.
 */
function runDdpmJob(module: object, job: DdpmJob): DdpmJobResult {
  const W = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, i: object) => { exports: unknown } } }).WebAssembly;
  const k = new W.Instance(module, {
    env: {
      abort: () => {
        throw new Error('wasm abort');
      },
    },
  }).exports as {
    memory: { buffer: ArrayBuffer; grow(p: number): number };
    heapBase(): number;
    gemmNN(a: number, b: number, c: number, M: number, K: number, N: number, bias: number): void;
    actForward(z: number, aux: number, count: number, kind: number): void;
  };
  const TILE = 64;
  const { widths, D, rows, T } = job;
  const L = widths.length - 1;
  let top = (k.heapBase() + 15) & ~15;
  const alloc = (floats: number): number => {
    const p = top;
    top += Math.ceil(floats / 4) * 16;
    return p;
  };
  const wPtr: number[] = [];
  const bPtr: number[] = [];
  for (let l = 0; l < L; l++) {
    wPtr.push(alloc(widths[l] * widths[l + 1]));
    bPtr.push(alloc(widths[l + 1]));
  }
  const inPtr = alloc(TILE * widths[0]);
  const outPtr: number[] = [];
  for (let l = 0; l < L; l++) outPtr.push(alloc(TILE * widths[l + 1]));
  // Inline, not checkKernelBytes: this function runs in workers from its source text, without imports.
  if (top > 65536 * 65536)
    throw new Error(`the fused DDPM kernel needs ${(top / 2 ** 30).toFixed(2)} GiB of memory, over its 4 GiB limit; lower evaluation.batchSize or set training.accelerate: false`);
  const need = top - k.memory.buffer.byteLength;
  if (need > 0) k.memory.grow(Math.ceil(need / 65536));
  const f = new Float32Array(k.memory.buffer);
  for (let l = 0; l < L; l++) {
    f.set(job.weights[2 * l], wPtr[l] / 4);
    f.set(job.weights[2 * l + 1], bPtr[l] / 4);
  }
  const x = job.x;
  const out = new Float32Array(rows * D);
  const w0 = D + 1;
  const snaps: Float32Array[] = [];
  if (job.snapSteps.includes(0)) snaps.push(x.slice());
  for (let t = T - 1; t >= 0; t--) {
    for (let r = 0; r < rows; r += TILE) {
      const m = Math.min(TILE, rows - r);
      const base = inPtr / 4;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < D; j++) f[base + i * w0 + j] = x[(r + i) * D + j];
        f[base + i * w0 + D] = t;
      }
      let input = inPtr;
      for (let l = 0; l < L; l++) {
        k.gemmNN(input, wPtr[l], outPtr[l], m, widths[l], widths[l + 1], bPtr[l]);
        if (l + 1 < L) k.actForward(outPtr[l], 0, (m * widths[l + 1] + 3) & ~3, job.act);
        input = outPtr[l];
      }
      out.set(f.subarray(input / 4, input / 4 + m * D), r * D);
    }
    const c1 = job.coef[5 * t],
      c2 = job.coef[5 * t + 1],
      sigma = job.coef[5 * t + 2],
      sa = job.coef[5 * t + 3],
      sb = job.coef[5 * t + 4];
    const zo = (T - 1 - t) * rows * D;
    for (let i = 0; i < rows * D; i++) {
      const o = out[i];
      const eps = job.type === 0 ? o : job.type === 1 ? (x[i] - sa * o) / sb : sb * x[i] + sa * o;
      let v = c1 * (x[i] - c2 * eps);
      if (t > 0) v += sigma * job.noise[zo + i];
      x[i] = v;
    }
    if (job.snapSteps.includes(T - t)) snaps.push(x.slice());
  }
  return { x, snaps };
}

/** Draws x_T and all noise, reads the weights, and cuts the rows into `parts` jobs. */
function makeJobs(p: FusedDdpmParams, parts: number): DdpmJob[] {
  const shape = mlpShape(p.description);
  if (typeof shape === 'string') throw new Error(`fused DDPM sampling cannot run this model: ${shape}`);
  const { schedule: s, n, rng } = p;
  const D = shape.dataDim;
  const T = s.numTrainTimesteps;
  for (let t = 0; t < T; t++) {
    // αₜ = 0 (zero terminal SNR) needs the posterior form of the update, which the tfjs sampler has
    if (!(s.alphas[t] > 0)) throw new Error(`fused DDPM sampling needs αₜ > 0, but α_${t} = ${s.alphas[t]}; use the tfjs ddpm sampler`);
  }
  const size = n * D;
  if (p.xT && p.xT.length !== size) throw new Error(`xT has ${p.xT.length} values, expected n·D = ${size}`);
  const x = p.xT ? Float32Array.from(p.xT) : rng.normalArray(size);
  const noise = new Float32Array(Math.max(0, T - 1) * size);
  for (let step = 0; step < T - 1; step++) rng.normalArray(size, noise.subarray(step * size, (step + 1) * size));
  const coef = new Float64Array(5 * T);
  for (let t = 0; t < T; t++) {
    const ab = s.alphasCumprod[t];
    const sb = Math.max(Math.sqrt(1 - ab), 1e-12);
    const variance = p.variance === 'fixed-large' ? s.betas[t] : posteriorVariance(s, t);
    coef.set([1 / Math.sqrt(s.alphas[t]), s.betas[t] / sb, t > 0 ? Math.sqrt(variance) : 0, Math.sqrt(ab), sb], 5 * t);
  }
  const weights = p.description.layers.flatMap(({ kernel, bias }) => [kernel.dataSync() as Float32Array, bias.dataSync() as Float32Array]);
  const type = { epsilon: 0, sample: 1, v: 2 }[p.predictionType ?? 'epsilon'];
  const snapSteps = [...new Set(p.snapshotSteps ?? [])].sort((a, b) => a - b);
  for (const step of snapSteps) {
    if (!Number.isInteger(step) || step < 0 || step > T) throw new Error(`snapshot step ${step} is not an integer in [0, ${T}]`);
  }
  const jobs: DdpmJob[] = [];
  const per = Math.ceil(n / parts);
  for (let r0 = 0; r0 < n; r0 += per) {
    const rows = Math.min(per, n - r0);
    const xs = x.slice(r0 * D, (r0 + rows) * D);
    const zs = new Float32Array(Math.max(0, T - 1) * rows * D);
    for (let step = 0; step < T - 1; step++) zs.set(noise.subarray(step * size + r0 * D, step * size + (r0 + rows) * D), step * rows * D);
    jobs.push({ widths: shape.widths, act: ACTIVATION_CODE[shape.activation], weights, rows, D, x: xs, noise: zs, T, coef, type, snapSteps });
  }
  return jobs;
}

/**
 * DDPM sampling over every training timestep on the calling thread. Noise order: x_T first (unless
 * given), then one [n, D] draw per step with t > 0 — the order of the samplers package's `ddpm`
 * with steps = T, so the same rng gives the same samples up to float rounding.
 */
export function sampleDdpmFused(p: FusedDdpmParams): Float32Array {
  const [job] = makeJobs(p, 1);
  return job ? runDdpmJob(kernelModule(), job).x : new Float32Array(0);
}

// --- worker threads (Node only; elsewhere the parallel variant runs on the calling thread)

interface PoolWorker {
  postMessage(m: unknown): void;
  on(ev: 'message' | 'error', f: (m: never) => void): void;
  off(ev: 'message' | 'error', f: (m: never) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}
let pool: PoolWorker[] = [];

async function workers(count: number): Promise<PoolWorker[]> {
  if (pool.length < count) {
    const { Worker } = (await import('node:worker_threads')) as unknown as { Worker: new (src: string, o: object) => PoolWorker };
    const src = `const { parentPort } = require('node:worker_threads');
const runDdpmJob = ${runDdpmJob.toString()};
parentPort.on('message', ({ module, job }) => {
  try { const r = runDdpmJob(module, job); parentPort.postMessage(r, [r.x.buffer, ...r.snaps.map((s) => s.buffer)]); }
  catch (e) { parentPort.postMessage({ error: String(e && e.stack || e) }); }
});`;
    while (pool.length < count) {
      const w = new Worker(src, { eval: true });
      w.unref(); // an idle pool never keeps the process alive (ref'd while a job runs)
      pool.push(w);
    }
  }
  return pool.slice(0, count);
}

function runOnWorker(w: PoolWorker, job: DdpmJob): Promise<DdpmJobResult> {
  return new Promise((resolve, reject) => {
    // remove only our own listeners: Worker keeps internal ones (removeAllListeners breaks it)
    const done = (): void => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.unref();
    };
    const onMessage = (m: { x?: Float32Array; snaps?: Float32Array[]; error?: string }): void => {
      done();
      if (m.x) resolve({ x: m.x, snaps: m.snaps ?? [] });
      else reject(new Error(`fused DDPM worker failed: ${m.error}`));
    };
    const onError = (e: Error): void => {
      done();
      pool = pool.filter((p) => p !== w);
      reject(e);
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.ref(); // keeps the process alive while the job runs
    w.postMessage({ module: kernelModule(), job });
  });
}

/** Default thread count: both cores of the reference machine, at most the machine's parallelism. */
async function defaultThreads(): Promise<number> {
  try {
    const os = await import('node:os');
    return Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length));
  } catch {
    return 1;
  }
}

/**
 * {@link sampleDdpmFused} with the rows split across `threads` (default: up to 2) — the calling
 * thread takes the first share, persistent worker threads the rest. Returns exactly what
 * sampleDdpmFused returns for the same rng; outside Node it runs on the calling thread.
 */
export async function sampleDdpmFusedParallel(p: FusedDdpmParams & { threads?: number }): Promise<Float32Array> {
  return (await sampleDdpmFusedTrajectory({ ...p, snapshotSteps: [] })).samples;
}

/**
 * {@link sampleDdpmFusedParallel} that also returns copies of the state at `snapshotSteps`, so a
 * caller that shows the reverse process (trajectory figures) can use the fused loop too.
 */
export async function sampleDdpmFusedTrajectory(p: FusedDdpmParams & { threads?: number }): Promise<FusedDdpmTrajectory> {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  const threads = isNode ? Math.max(1, Math.floor(p.threads ?? (await defaultThreads()))) : 1;
  const jobs = makeJobs(p, threads);
  const T = p.schedule.numTrainTimesteps;
  const steps = jobs[0]?.snapSteps ?? [];
  let parts: DdpmJobResult[];
  if (jobs.length <= 1) parts = jobs.map((job) => runDdpmJob(kernelModule(), job));
  else {
    const ws = await workers(jobs.length - 1);
    const pending = jobs.slice(1).map((job, i) => runOnWorker(ws[i], job));
    const first = runDdpmJob(kernelModule(), jobs[0]);
    parts = [first, ...(await Promise.all(pending))];
  }
  const size = p.n * (jobs[0]?.D ?? 0);
  const join = (pick: (r: DdpmJobResult) => Float32Array): Float32Array => {
    const out = new Float32Array(size);
    let o = 0;
    for (const part of parts) {
      const a = pick(part);
      out.set(a, o);
      o += a.length;
    }
    return out;
  };
  return {
    samples: join((r) => r.x),
    snapshots: steps.map((step, k) => ({ step, t: step < T ? T - 1 - step : -1, samples: join((r) => r.snaps[k]) })),
  };
}

/** Stops the worker threads (they are unref'd, so this is only needed to free them early). */
export async function terminateDdpmWorkers(): Promise<void> {
  const ws = pool;
  pool = [];
  await Promise.all(ws.map((w) => w.terminate()));
}

// --- the capability: which described reverse loops this kernel runs

/**
 * Why the fused loop cannot run `loop` on `schedule`, or null when it computes exactly that loop:
 * Ho et al. 2020 Alg. 2 over every t = T−1 … 0 with αₜ > 0 and either variance of §3.2. Why a
 * check on the description: the runner connects any sampler that declares this loop
 * (`Sampler.describeLoop`) without knowing which sampler it is.
 */
export function fusedDdpmDeclines(loop: ReverseLoopDescription, schedule: NoiseSchedule): string | null {
  const kind = (loop as { kind: string }).kind;
  if (kind !== 'ddpm-ancestral') return `the fused DDPM loop runs Ho et al. 2020 Alg. 2 only, not a '${kind}' loop`;
  const T = schedule.numTrainTimesteps;
  const ts = loop.timesteps;
  if (ts.length !== T || ts.some((t, i) => t !== T - 1 - i)) return `the fused DDPM loop visits every timestep T−1 … 0 (T = ${T}); this loop visits ${ts.length}`;
  const variance = loop.variance as string;
  if (variance !== 'fixed-small' && variance !== 'fixed-large') return `the fused DDPM loop has the fixed-small and fixed-large variances, not '${variance}'`;
  const zero = Array.from(schedule.alphas).findIndex((a) => !(a > 0));
  if (zero >= 0) return `the fused DDPM loop needs αₜ > 0, but α_${zero} = ${schedule.alphas[zero]}`;
  return null;
}

/** Inputs to {@link fusedDdpmLoop}. */
export interface FusedDdpmLoopParams {
  /** The model; its plain-MLP description (live weight tensors) is taken once, here. */
  model: Pick<DenoiserModel, 'describe'>;
  /** What the sampler declared it runs. */
  loop: ReverseLoopDescription;
  schedule: NoiseSchedule;
  predictionType: PredictionType;
  /** Worker threads (samples are bit-identical for every count). */
  threads: number;
}

/**
 * A {@link SamplingLoop} (core's generateSamples runs it per batch) that computes the described
 * loop in the kernels, with its step count; or the reason it cannot, so the caller keeps the
 * sampler's own loop.
 */
export function fusedDdpmLoop(p: FusedDdpmLoopParams): { run: SamplingLoop; steps: number } | string {
  const declined = fusedDdpmDeclines(p.loop, p.schedule);
  if (declined) return declined;
  const described = typeof p.model.describe === 'function' ? p.model.describe() : null;
  if (described?.kind !== 'plain-mlp') return 'the model is not a plain MLP (it does not describe itself as one)';
  const description = described;
  const shape = mlpShape(description);
  if (typeof shape === 'string' || !description) return typeof shape === 'string' ? shape : 'the model gives no plain-MLP description';
  const T = p.schedule.numTrainTimesteps;
  const { variance } = p.loop;
  const run: SamplingLoop = async ({ n, rng, snapshotSteps }) => {
    const r = await sampleDdpmFusedTrajectory({ description, schedule: p.schedule, predictionType: p.predictionType, n, rng, variance, snapshotSteps, threads: p.threads });
    return { samples: r.samples, snapshots: r.snapshots, nfe: T };
  };
  return { run, steps: T };
}
