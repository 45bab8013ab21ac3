/**
 * Memory limits checked before any work: the dataset, model (with its training state and
 * activations) and evaluation arrays are estimated from the config alone — through the plugins'
 * optional `estimateMemory` hooks — and a config whose estimate exceeds the machine's memory is
 * refused, naming the option that drives it, the estimate and the memory there is.
 */
import { freemem, totalmem } from 'node:os';
import { ConfigError, type MemoryEstimate, type MemoryEstimateContext } from '@diffusionlab/core';
import type { ResolvedExperiment, ResolvedSlot } from './config.js';

/** Environment variable that caps the memory budget (bytes, or with a unit: `512MB`, `2GiB`), e.g. for tests or shared machines. */
export const MEMORY_LIMIT_ENV = 'DIFFUSIONLAB_MEMORY_LIMIT';

/**
 * Arrays alive per evaluated row, each `samples × D` float32: the samples, their data-space copy and
 * .npy encoding, the reference likewise, the noise-floor draw, and the sampler's working tensors.
 */
export const EVALUATION_COPIES = 10;

/** One term of the estimate: bytes and the dotted config key that sets them. */
export interface MemoryTerm {
  key: string;
  bytes: number;
  what: string;
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** Parses `123`, `512MB`, `2GiB`; null when unparseable. */
export function parseBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : null;
}

/** Formats bytes as `1.5 GB`. */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = n / 1e3;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toPrecision(2)} ${units[i]}`;
}

/** The memory a run may use: the machine's (or the process's cgroup limit), capped by {@link MEMORY_LIMIT_ENV}. */
export function memoryBudget(env: NodeJS.ProcessEnv = process.env): { bytes: number; describe: string } {
  const total = totalmem();
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  let bytes = constrained && constrained > 0 && constrained < total ? constrained : total;
  let source = `this machine has ${formatBytes(total)}, ${formatBytes(freemem())} available`;
  if (bytes < total) source += `; this process is limited to ${formatBytes(bytes)}`;
  const capText = env[MEMORY_LIMIT_ENV];
  if (capText !== undefined && capText !== '') {
    const cap = parseBytes(capText);
    if (cap === null) throw new ConfigError({ path: MEMORY_LIMIT_ENV, message: `${JSON.stringify(capText)} is not a byte count (e.g. 8GB, 512MiB)` });
    if (cap < bytes) {
      bytes = cap;
      source = `${MEMORY_LIMIT_ENV} allows ${formatBytes(cap)}`;
    }
  }
  return { bytes, describe: source };
}

/** The context plugins estimate in, from the config's training and evaluation sections. */
function estimateContext(r: ResolvedExperiment, dataShape?: readonly number[]): MemoryEstimateContext {
  const ev = r.experiment.evaluation;
  return { dataShape, batchSize: r.experiment.training.batchSize, samples: ev.samples, sampleBatch: Math.min(ev.samples, ev.batchSize ?? ev.samples) };
}

/** Calls a slot's `estimateMemory` hook, if it has one; the key is prefixed with the slot's path. */
function slotTerm(slot: ResolvedSlot, ctx: MemoryEstimateContext): (MemoryTerm & { perRowBytes?: number }) | null {
  const est: MemoryEstimate | null | undefined = slot.def.estimateMemory?.(slot.options, ctx);
  if (!est || !Number.isFinite(est.bytes)) return est && !Number.isFinite(est.bytes) ? { key: `${slot.path}.${est.key}`, bytes: Number.POSITIVE_INFINITY, what: est.what } : null;
  return { key: `${slot.path}.${est.key}`, bytes: est.bytes, what: est.what, perRowBytes: est.perRowBytes };
}

/** Refuses when the terms add up to more than the budget, naming the largest term's key. */
export function checkTerms(terms: readonly MemoryTerm[], budget = memoryBudget()): void {
  const total = terms.reduce((a, t) => a + t.bytes, 0);
  if (total <= budget.bytes) return;
  const top = [...terms].sort((a, b) => b.bytes - a.bytes)[0];
  const byKey = new Map<string, number>();
  for (const t of terms) byKey.set(t.key, (byKey.get(t.key) ?? 0) + t.bytes);
  const parts = terms.length > 1 ? ` (whole run about ${formatBytes(total)}: ${[...byKey].map(([k, b]) => `${k} ${formatBytes(b)}`).join(', ')})` : '';
  throw new ConfigError(
    { path: top.key, message: `needs about ${formatBytes(top.bytes)} for ${top.what}${parts}, but ${budget.describe}` },
    { hint: `lower ${top.key}; the estimate is checked before anything runs (set ${MEMORY_LIMIT_ENV} to change the budget)` },
  );
}

/** Before the dataset is created (a `file` dataset reads its file then): the dataset's own estimate against the budget. */
export function checkDatasetMemory(r: ResolvedExperiment): void {
  const t = slotTerm(r.dataset, estimateContext(r));
  if (t) checkTerms([t]);
}

/** Once the data shape is known: dataset + model and training state + evaluation arrays, against the budget. */
export function checkRunMemory(r: ResolvedExperiment, dataShape: readonly number[]): void {
  const ctx = estimateContext(r, dataShape);
  const D = dataShape.reduce((a, b) => a * b, 1);
  const ev = r.experiment.evaluation;
  const terms: MemoryTerm[] = [];
  const data = slotTerm(r.dataset, ctx);
  if (data) terms.push(data);
  const model = slotTerm(r.denoiser, ctx);
  if (model) terms.push(model);
  const perRow = model?.perRowBytes ?? 0;
  if (perRow > 0) {
    const key = ev.batchSize !== undefined && ev.batchSize < ev.samples ? 'evaluation.batchSize' : 'evaluation.samples';
    terms.push({ key, bytes: ctx.sampleBatch * perRow, what: `the denoiser's activations for ${ctx.sampleBatch} rows per sampler call` });
  }
  const copies = EVALUATION_COPIES + ev.trajectory;
  terms.push({ key: 'evaluation.samples', bytes: ev.samples * D * 4 * copies, what: `${ev.samples} samples of ${D} value${D === 1 ? '' : 's'} (${copies} arrays of them)` });
  checkTerms(terms);
}
