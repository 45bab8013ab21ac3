/**
 * Conformance checks for `reporter` plugins: every hook runs without the optional data (empty
 * trajectory, no dataset info, no metrics, no loss history, hooks called alone as `diffusionlab sample`
 * and resumed runs call them) as well as with all of it, and a reporter writes files only inside
 * its run directory — nothing beside it and nothing in the working directory. Each check runs the
 * hooks in a fresh sandbox (a parent folder holding the run directory and a working directory).
 * Plain checks throw {@link ConformanceError}; {@link reporterConformance} wraps them in vitest.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import {
  type DatasetInfo,
  type EpochEndEvent,
  type EvaluateEvent,
  type PluginDefinition,
  parseOptions,
  type Reporter,
  Rng,
  type RunEndEvent,
  type RunStartEvent,
  type SampleEvent,
  scheduleDiagnostics,
  type TrainProgressEvent,
} from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { ConformanceError } from './assertions.js';
import { checkRejects, type InvalidOptionsCase, testPluginContext } from './plugin-options.js';
import { conformanceSchedule } from './sampler-conformance.js';

// biome-ignore lint/suspicious/noExplicitAny: a reporter plugin with any option schema.
type ReporterPlugin = PluginDefinition<'reporter', any>;

/** The hooks of a reporter, in the order a training run calls them. */
export const REPORTER_HOOKS = ['onRunStart', 'onTrainProgress', 'onEpochEnd', 'onSample', 'onEvaluate', 'onRunEnd'] as const;

/** One hook name. */
export type ReporterHook = (typeof REPORTER_HOOKS)[number];

/** One event per hook. */
export interface ReporterEvents {
  onRunStart: RunStartEvent;
  onTrainProgress: TrainProgressEvent[];
  onEpochEnd: EpochEndEvent[];
  onSample: SampleEvent;
  onEvaluate: EvaluateEvent;
  onRunEnd: RunEndEvent;
}

/**
 * Events for a short run on data of `shape`. `full` fills every optional part (a trajectory, dataset
 * info with standardisation, range, modes and labels, metrics with noise floors and details, a loss
 * history, warnings); otherwise each is absent or empty, as in `diffusionlab sample` or a run without
 * evaluation.
 */
export function reporterEvents(runDir: string, shape: readonly number[], full: boolean): ReporterEvents {
  const schedule = conformanceSchedule(100);
  const D = shape.reduce((a, b) => a * b, 1);
  const n = 64;
  const rng = new Rng(5);
  const draw = () => Float32Array.from(rng.normalArray(n * D), (v) => Math.max(-1, Math.min(1, v / 3)));
  const info: DatasetInfo = full
    ? {
        standardization: { mean: new Array(D).fill(0.1), std: new Array(D).fill(2) },
        range: [-1, 1],
        modes: { centers: [new Array(D).fill(-0.5), new Array(D).fill(0.5)], radius: 0.3 },
        labels: Int32Array.from({ length: n }, (_, i) => i % 10),
      }
    : {};
  return {
    onRunStart: {
      runDir,
      name: 'conformance',
      config: full ? { dataset: { use: 'fixture' }, training: { epochs: 3 } } : {},
      env: full ? { node: process.version, backend: 'cpu' } : {},
      dataShape: shape,
      schedule,
      diagnostics: scheduleDiagnostics(schedule),
      totalSteps: 6,
      epochs: 3,
      parameterCount: 10,
      warnings: full ? ['a warning for the conformance suite'] : [],
    },
    onTrainProgress: [2, 4, 6].map((step) => ({ step, totalSteps: 6, epoch: step / 2, epochs: 3, elapsedSeconds: step / 10 })),
    onEpochEnd: [1, 2, 3].map((epoch) => ({
      epoch,
      epochs: 3,
      step: 2 * epoch,
      totalSteps: 6,
      meanLoss: 1 / epoch,
      logged: full || epoch === 3,
      elapsedSeconds: epoch / 5,
      learningRate: 1e-3,
    })),
    onSample: {
      sampler: 'fixture',
      samples: draw(),
      reference: draw(),
      shape,
      n,
      nfe: 10,
      seconds: 0.5,
      trajectory: full ? [0, 5, 10].map((step) => ({ step, t: step === 10 ? -1 : 99 - 10 * step, samples: draw() })) : [],
      info,
    },
    onEvaluate: full ? { metrics: { w1: 0.1, w1NoiseFloor: 0.05, coverage: 0.9 }, details: { perDim: new Array(D).fill(0.1), note: 'fixture' } } : { metrics: {}, details: {} },
    onRunEnd: {
      runDir,
      summary: full ? { name: 'conformance', metrics: { w1: 0.1 }, training: { seconds: 1 } } : {},
      lossHistory: full ? [1, 2, 3].map((epoch) => ({ epoch, step: 2 * epoch, loss: 1 / epoch })) : [],
    },
  };
}

/** A parent folder holding the run directory (`run/`) and a working directory (`cwd/`), both empty. */
export interface ReporterSandbox {
  root: string;
  runDir: string;
  cwd: string;
}

/** Makes a fresh {@link ReporterSandbox} under the system temp folder. */
export function reporterSandbox(): ReporterSandbox {
  const root = mkdtempSync(join(tmpdir(), 'dl-reporter-conformance-'));
  const runDir = join(root, 'run');
  const cwd = join(root, 'cwd');
  mkdirSync(runDir);
  mkdirSync(cwd);
  return { root, runDir, cwd };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? [`${p}${sep}`, ...listFiles(p)] : [p];
  });
}

const fail = (name: string, msg: string): never => {
  throw new ConformanceError(`reporter ${JSON.stringify(name)}: ${msg}`);
};

/**
 * Runs `hooks` of the reporter `make` creates (with `context.runDir` set) in a fresh sandbox, with the
 * process's working directory moved into the sandbox while they run (where the test runner allows
 * `process.chdir`), and checks that no hook throws and that every file or folder written lies inside
 * the run directory. Returns what was written there (relative paths, folders ending in `/`); removes the sandbox.
 */
export async function checkReporterHooks(
  name: string,
  make: (runDir: string) => Reporter | Promise<Reporter>,
  shape: readonly number[],
  full: boolean,
  hooks: readonly ReporterHook[] = REPORTER_HOOKS,
): Promise<string[]> {
  const box = reporterSandbox();
  const previous = process.cwd();
  let moved = false;
  try {
    const events = reporterEvents(box.runDir, shape, full);
    const reporter = await make(box.runDir);
    try {
      process.chdir(box.cwd);
      moved = true;
    } catch {
      // worker threads cannot chdir; the check then covers the sandbox only
    }
    for (const hook of hooks) {
      const fn = reporter[hook] as ((e: unknown) => void | Promise<void>) | undefined;
      if (!fn) continue;
      const list: unknown[] = Array.isArray(events[hook]) ? (events[hook] as unknown[]) : [events[hook]];
      for (const e of list) {
        try {
          await fn.call(reporter, e);
        } catch (cause) {
          fail(name, `${hook} threw with ${full ? 'every optional field present' : 'the optional data absent'} (shape [${shape}], hooks ${hooks.join(', ')}): ${String(cause)}`);
        }
      }
    }
    if (moved) process.chdir(previous);
    moved = false;
    const outside = listFiles(box.root).filter((p) => p !== `${box.runDir}${sep}` && p !== `${box.cwd}${sep}` && !p.startsWith(`${box.runDir}${sep}`));
    if (outside.length > 0) fail(name, `wrote outside its run directory: ${outside.map((p) => relative(box.root, p)).join(', ')} (run directory: run/, working directory: cwd/)`);
    return listFiles(box.runDir).map((p) => `${relative(box.runDir, p).split(sep).join('/')}${p.endsWith(sep) ? '/' : ''}`);
  } finally {
    if (moved) process.chdir(previous);
    rmSync(box.root, { recursive: true, force: true });
  }
}

/** Settings for {@link reporterConformance}; every field is optional. */
export interface ReporterConformanceOptions {
  /** Reporter option objects to test (each parsed at `reporter`); default `[{}]`. */
  optionsList?: Record<string, unknown>[];
  /** Data shapes of the events (default `[[1], [2]]`); add e.g. `[8, 8, 1]` for an image reporter. */
  shapes?: number[][];
  /** Bad options; each must throw one ConfigError naming its `path` (e.g. `reporter.file`). */
  invalid?: InvalidOptionsCase[];
}

/**
 * The vitest suite for a reporter plugin: for each options object and shape, runs every hook in
 * order with all optional data, then with none of it, then each hook alone on a fresh reporter (as
 * `diffusionlab sample` calls only some), each time checking with {@link checkReporterHooks} that no
 * hook throws and nothing is written outside the run directory; then each `invalid` case.
 */
export function reporterConformance(plugin: ReporterPlugin, options: ReporterConformanceOptions = {}): void {
  const list = options.optionsList && options.optionsList.length > 0 ? options.optionsList : [{}];
  const shapes = options.shapes && options.shapes.length > 0 ? options.shapes : [[1], [2]];
  describe(`reporter conformance: ${plugin.name}`, () => {
    it('is a reporter plugin with a name, description and options schema', () => {
      expect(plugin.kind).toBe('reporter');
      expect(plugin.name).toMatch(/^[a-z0-9][a-z0-9+._-]*$/);
      expect(plugin.description.length).toBeGreaterThan(0);
    });
    for (const raw of list) {
      const make = async (runDir: string): Promise<Reporter> => {
        const r = await plugin.create(parseOptions(plugin.options, raw, 'reporter'), testPluginContext({ runDir }));
        expect(r.name).toBe(plugin.name);
        return r;
      };
      for (const shape of shapes) {
        const label = `${JSON.stringify(raw)} on [${shape}]`;
        it(`${label}: every hook with all optional data; files only inside the run directory`, () => checkReporterHooks(plugin.name, make, shape, true));
        it(`${label}: every hook with the optional data absent; files only inside the run directory`, () => checkReporterHooks(plugin.name, make, shape, false));
        it(`${label}: each hook alone, without the hooks before it`, async () => {
          for (const hook of REPORTER_HOOKS) await checkReporterHooks(plugin.name, make, shape, false, [hook]);
        });
      }
    }
    for (const c of options.invalid ?? []) {
      it(`rejects ${JSON.stringify(c.options)} at ${c.path}`, () => checkRejects(plugin, c, 'reporter'));
    }
  });
}
