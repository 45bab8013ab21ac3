/**
 * Garbage detection after sampling: samples that are non-finite, spread far wider than the data, or
 * score orders of magnitude above a metric's noise floor get a divergence warning that names the
 * likely cause and fixes the tool accepts (as `key=value` overrides), instead of a quiet bad number.
 */
import type { Advice } from '@diffusionlab/core';

/** A sample std above this multiple of the reference's (in any dimension) is divergence, not a poor fit. */
export const DIVERGED_STD_RATIO = 10;

/**
 * A dimension's reference std counts as at least this share of the data's pooled std (the root mean
 * of the per-dimension variances); why: an image's always-blank border has a reference std near 0, and
 * faint sample noise there must not read as a blow-up when every pixel is on the data's scale.
 */
export const REFERENCE_STD_FLOOR = 0.1;

/** A distance metric above this multiple of its noise floor is divergence ("orders of magnitude"). */
export const DIVERGED_FLOOR_RATIO = 100;

/** Below this many steps, "too few steps" is a likely cause on its own. */
export const FEW_STEPS = 20;

/** What the check measures: samples and reference [n, D] in the same space, and each metric with its floor. */
export interface DivergenceInput {
  samples: Float32Array;
  reference: Float32Array;
  /** Values per sample (D). */
  dim: number;
  metrics: { name: string; value: number; floor: number; higherIsBetter: boolean }[];
  /** Warnings already known for this config (sampler advice, schedule diagnostics, dropped options): the likely causes. */
  causes: Advice[];
  /** Steps sampled, and the schedule's T. */
  steps: number;
  numTrainTimesteps: number;
}

/** A divergence warning: the measurements, the message (cause included) and the fixes. */
export interface Divergence extends Advice {
  /** Share of non-finite values in the samples. */
  nonFinite: number;
  /** Largest per-dimension std(samples)/max(std(reference), {@link REFERENCE_STD_FLOOR} × pooled std) over finite values. */
  stdRatio: number;
  /** The distance metric furthest above its floor, as value/floor. */
  floorRatio: { metric: string; ratio: number } | null;
}

/** Per-dimension standard deviations over finite values; why: one NaN must not hide the scale of the rest. */
function stds(x: Float32Array, dim: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < dim; d++) {
    let n = 0;
    let sum = 0;
    let sq = 0;
    for (let i = d; i < x.length; i += dim) {
      const v = x[i];
      if (!Number.isFinite(v)) continue;
      n++;
      sum += v;
      sq += v * v;
    }
    const mean = n > 0 ? sum / n : 0;
    out.push(n > 1 ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : 0);
  }
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toPrecision(3));

/** Returns a divergence warning when the samples are garbage, null when they are merely good or poor. */
export function checkDivergence(input: DivergenceInput): Divergence | null {
  let bad = 0;
  for (const v of input.samples) if (!Number.isFinite(v)) bad++;
  const nonFinite = input.samples.length > 0 ? bad / input.samples.length : 0;
  const s = stds(input.samples, input.dim);
  const ref = stds(input.reference, input.dim);
  const pooled = Math.sqrt(ref.reduce((acc, v) => acc + v * v, 0) / Math.max(1, input.dim));
  const refFloor = REFERENCE_STD_FLOOR * pooled;
  let stdRatio = 0;
  for (let d = 0; d < input.dim; d++) {
    const scale = Math.max(ref[d], refFloor);
    if (scale > 0) stdRatio = Math.max(stdRatio, s[d] / scale);
  }
  let floorRatio: Divergence['floorRatio'] = null;
  for (const m of input.metrics) {
    if (m.higherIsBetter || !(m.floor > 0) || !Number.isFinite(m.value)) continue;
    const ratio = m.value / m.floor;
    if (!floorRatio || ratio > floorRatio.ratio) floorRatio = { metric: m.name, ratio };
  }
  const symptoms: string[] = [];
  if (nonFinite > 0) symptoms.push(`${(100 * nonFinite).toPrecision(2)} % of the sample values are not finite`);
  if (stdRatio > DIVERGED_STD_RATIO) symptoms.push(`the samples spread ${fmt(stdRatio)}× wider than the data`);
  if (floorRatio && floorRatio.ratio > DIVERGED_FLOOR_RATIO) symptoms.push(`${floorRatio.metric} is ${fmt(floorRatio.ratio)}× its noise floor`);
  if (symptoms.length === 0) return null;
  const { cause, fixes } = likelyCause(input);
  return {
    message: `DIVERGED: the samples are garbage: ${symptoms.join('; ')}. Likely cause: ${cause}`,
    fixes,
    nonFinite,
    stdRatio,
    floorRatio,
  };
}

/** The first known cause with fixes, else too few steps, else a note that no cause is known (fixes: more steps where possible). */
function likelyCause(input: DivergenceInput): { cause: string; fixes: string[][] } {
  const moreSteps = Math.min(input.numTrainTimesteps, Math.max(4 * input.steps, 50));
  const stepFix = moreSteps > input.steps ? [[`sampler.steps=${moreSteps}`]] : [];
  const known = input.causes.filter((c) => c.fixes.length > 0);
  const notes = input.causes.filter((c) => c.fixes.length === 0).map((c) => c.message);
  if (known.length > 0) {
    const fixes: string[][] = [];
    for (const c of known) for (const f of c.fixes) if (!fixes.some((g) => g.join(' ') === f.join(' '))) fixes.push(f);
    return { cause: [...known.map((c) => c.message), ...notes].join(' Also: '), fixes };
  }
  if (input.steps < FEW_STEPS && stepFix.length > 0) return { cause: `too few sampler steps (${input.steps}).`, fixes: stepFix };
  const note = notes.length > 0 ? ` Note: ${notes.join(' ')}` : '';
  return { cause: `no known sampler/schedule/prediction-type problem; try more steps or another sampler.${note}`, fixes: stepFix };
}
