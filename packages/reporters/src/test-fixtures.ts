/** Synthetic events and helpers shared by this package's tests (not part of the build). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EpochEndEvent, type PluginContext, Rng, type RunEndEvent, type RunStartEvent, type SampleEvent, scheduleDiagnostics, scheduleFromBetas } from '@diffusionlab/core';
import { afterEach, expect } from 'vitest';
import { PNG_SIGNATURE } from './png.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp run directory, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'dl-reporters-'));
  dirs.push(d);
  return d;
}

/** A path that cannot be a directory: a regular file (works as root, where permissions do not stop writes). */
export function unwritableDir(): string {
  const f = join(tempDir(), 'not-a-dir');
  writeFileSync(f, 'x');
  return f;
}

/** A plugin context that records printed lines. */
export function ctx(runDir?: string, interactive = false): PluginContext & { lines: string[] } {
  const lines: string[] = [];
  return { runDir, seed: 0, interactive, print: (l) => lines.push(l), lines };
}

/** The reference's schedule: β = linspace(1e-4, 0.02, 100). */
export const referenceSchedule = scheduleFromBetas(
  'linear',
  Array.from({ length: 100 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 99),
);

export function runStart(runDir: string, over: Partial<RunStartEvent> = {}): RunStartEvent {
  return {
    runDir,
    name: 'seed-1d',
    config: { dataset: { use: 'gaussian-mixture' }, training: { epochs: 1000 } },
    env: { node: '20', backend: 'cpu' },
    dataShape: [1],
    schedule: referenceSchedule,
    diagnostics: scheduleDiagnostics(referenceSchedule),
    totalSteps: 32000,
    epochs: 1000,
    parameterCount: 17_025,
    warnings: [],
    ...over,
  };
}

export function epochEnd(epoch: number, over: Partial<EpochEndEvent> = {}): EpochEndEvent {
  return {
    epoch,
    epochs: 1000,
    step: epoch * 32,
    totalSteps: 32000,
    meanLoss: 0.5 / epoch,
    logged: epoch % 100 === 0,
    elapsedSeconds: epoch * 0.01,
    learningRate: 1e-3,
    ...over,
  };
}

/** The reference's data: n points, half from N(−2, 0.5²), half from N(2, 0.5²), D values each. */
export function bimodal(n: number, seed: number, D = 1): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n * D);
  for (let i = 0; i < n * D; i++) out[i] = (Math.floor(i / D) % 2 ? 2 : -2) + 0.5 * rng.normal();
  return out;
}

export function sampleEvent(over: Partial<SampleEvent> = {}): SampleEvent {
  const D = (over.shape ?? [1]).reduce((a, b) => a * b, 1);
  const n = 400;
  return {
    sampler: 'ddpm',
    samples: bimodal(n, 1, D),
    reference: bimodal(n, 2, D),
    shape: [1],
    n,
    nfe: 100,
    seconds: 1.234,
    trajectory: [0, 1, 2, 3].map((k) => ({ step: k * 33, t: k === 3 ? -1 : 99 - 33 * k, samples: bimodal(n, 10 + k, D) })),
    info: {},
    ...over,
  };
}

export function runEnd(runDir: string, over: Partial<RunEndEvent> = {}): RunEndEvent {
  return {
    runDir,
    summary: { name: 'seed-1d', metrics: { w1: 0.05, w1NoiseFloor: 0.03 } },
    lossHistory: Array.from({ length: 50 }, (_, i) => ({ epoch: i + 1, step: 32 * (i + 1), loss: 0.3 + Math.exp(-i / 5) })),
    ...over,
  };
}

/** Asserts `path` is a PNG of plausible size and returns its pixel width and height (from IHDR). */
export function expectPng(path: string, minBytes = 5_000): { width: number; height: number } {
  const buf = readFileSync(path);
  expect(buf.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(buf.length).toBeGreaterThan(minBytes);
  expect(buf.length).toBeLessThan(5_000_000);
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}
