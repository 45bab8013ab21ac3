/**
 * Factories that take a plugin's options the way a config writes them — zod's *input* type, where
 * every key with a default is optional — and parse them through the plugin's schema before
 * building. So `createDdpm({ steps: 50 })` works in a program exactly as `sampler: { use: ddpm,
 * steps: 50 }` does in a config: same defaults (one home per default: the schema), same checks,
 * same ConfigError naming the bad key.
 */
import type { z } from 'zod';
import { parseOptions } from './options.js';
import type { MaybePromise, PluginContext, PluginDefinition, PluginInstances, PluginKind } from './plugin.js';

/**
 * The arguments of a {@link withDefaults} factory: the options input (optional when every key has a
 * default and the builder takes nothing else), then the builder's own extra arguments.
 */
export type FactoryArgs<S extends z.ZodType, A extends unknown[]> = A extends []
  ? Record<never, never> extends z.input<S>
    ? [options?: z.input<S>]
    : [options: z.input<S>]
  : [options: z.input<S>, ...rest: A];

/**
 * Wraps a builder that needs fully parsed options into a factory that applies the schema's defaults
 * and validation first; why: library callers should not repeat every default (nor skip the checks)
 * that the registry path gets from the schema. `path` prefixes keys in errors (`sampler.steps`).
 */
export function withDefaults<S extends z.ZodType, A extends unknown[], R>(
  schema: S,
  build: (options: z.output<S>, ...rest: A) => R,
  path: string,
): (...args: FactoryArgs<S, A>) => R {
  return (...args: FactoryArgs<S, A>): R => {
    const [raw, ...rest] = args as unknown as [unknown, ...A];
    return build(parseOptions(schema, raw ?? {}, path), ...rest);
  };
}

/** The context {@link instantiate} gives a plugin outside a run: seed 0, lines to console.log, no progress bars. */
export const LIBRARY_CONTEXT: PluginContext = { seed: 0, print: (line) => console.log(line), interactive: false };

/** The arguments of {@link instantiate}: options input (optional when all have defaults), then an optional context. */
export type InstantiateArgs<S extends z.ZodType> =
  Record<never, never> extends z.input<S> ? [options?: z.input<S>, context?: PluginContext] : [options: z.input<S>, context?: PluginContext];

/**
 * Builds any plugin from code the way a config slot does — options parsed through its schema (defaults
 * applied, errors naming `<kind>.<key>`), then `create` — and returns what that plugin's `create`
 * returns (a synchronous plugin's instance needs no `await`). Why: one call for every plugin,
 * third-party ones included, instead of hand-written factories per plugin.
 */
export function instantiate<K extends PluginKind, S extends z.ZodType, R extends MaybePromise<PluginInstances[K]>>(
  plugin: PluginDefinition<K, S, R>,
  ...args: InstantiateArgs<S>
): R {
  const [raw, context] = args as unknown as [unknown, PluginContext | undefined];
  return plugin.create(parseOptions(plugin.options, raw ?? {}, plugin.kind), context ?? LIBRARY_CONTEXT);
}
