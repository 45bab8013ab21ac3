/**
 * Plugin definitions: plain objects `{ kind, name, description, options, create }`. A package
 * exports an array of them as `plugins`; nothing registers itself on import.
 */
import type { z } from 'zod';
import type { MemoryEstimate, MemoryEstimateContext } from './memory.js';
import type { Dataset, Denoiser, Metric, Reporter, Sampler } from './spec.js';
import type { NoiseSchedule } from './schedule.js';

/** What each plugin kind's `create` returns. */
export interface PluginInstances {
  schedule: NoiseSchedule;
  dataset: Dataset;
  denoiser: Denoiser;
  sampler: Sampler;
  metric: Metric;
  reporter: Reporter;
}

/** The plugin kinds, one per workspace package. */
export type PluginKind = keyof PluginInstances;

/** Every plugin kind, in the order `diffusionlab list` shows them. */
export const PLUGIN_KINDS: readonly PluginKind[] = ['dataset', 'schedule', 'denoiser', 'sampler', 'metric', 'reporter'];

/** Where a plugin runs; lets reporters write into the run directory and print to the console. */
export interface PluginContext {
  /** The run (or sample) directory; undefined outside a run. */
  runDir?: string;
  seed: number;
  /** Writes one line for the user (stdout in the CLI). */
  print: (line: string) => void;
  /** True when output is an interactive terminal (progress bars). */
  interactive: boolean;
  /**
   * Tells the runner about a path inside `runDir` that the plugin is about to write (call it first,
   * then write), so the run directory's manifest lists it and `--force` may later remove it. Files
   * never announced count as the user's, and `--force` refuses to delete the folder that holds them.
   */
  recordOutput?: (path: string) => void;
}

/** A value or a promise of it: what a plugin kind's `create` may return in general. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * A plugin: its options schema is the single source for validation, `list`, and README tables.
 * `R` is what `create` returns: {@link definePlugin} infers it from the plugin's own `create`, so a
 * synchronous plugin stays synchronous for library callers, while code that handles any plugin
 * (the registry, the runner) sees `MaybePromise<…>` and simply `await`s it.
 */
export interface PluginDefinition<
  K extends PluginKind = PluginKind,
  S extends z.ZodType = z.ZodType,
  R extends MaybePromise<PluginInstances[K]> = MaybePromise<PluginInstances[K]>,
> {
  readonly kind: K;
  /** The name configs use in `use:`. */
  readonly name: string;
  /** One line for `diffusionlab list`. */
  readonly description: string;
  /** Options other than `use`; a zod object schema with defaults. */
  readonly options: S;
  create(options: z.output<S>, context: PluginContext): R;
  /**
   * Optional: the peak memory this plugin will need, computed from its options alone (no data read,
   * nothing built), so a config that cannot fit is refused before any work; null when unknown.
   */
  estimateMemory?(options: z.output<S>, context: MemoryEstimateContext): MemoryEstimate | null;
}

/** Any plugin definition, for arrays that mix kinds. */
// biome-ignore lint/suspicious/noExplicitAny: heterogeneous plugin lists need an erased option type.
export type AnyPluginDefinition = PluginDefinition<PluginKind, any>;

/**
 * Identity helper that infers option types from the schema, so `create` is checked against it, and
 * keeps `create`'s own return type (e.g. `Sampler`, not `Sampler | Promise<Sampler>`), so library
 * callers of a synchronous plugin need no `await`.
 */
export function definePlugin<K extends PluginKind, S extends z.ZodType, R extends MaybePromise<PluginInstances[K]>>(def: PluginDefinition<K, S, R>): PluginDefinition<K, S, R> {
  return def;
}
