/**
 * Option handling shared by every conformance suite: a plugin context for tests, the JSON round trip
 * of parsed options, and the check that bad options are refused at their config key.
 */
import { isConfigError, type PluginContext, type PluginDefinition, type PluginKind, parseOptions } from '@diffusionlab/core';
import { ConformanceError } from './assertions.js';

/** A plugin context for tests: seed 0, no output, non-interactive. */
export function testPluginContext(overrides: Partial<PluginContext> = {}): PluginContext {
  return { seed: 0, print: () => {}, interactive: false, ...overrides };
}

/** Options that must be rejected, and the key (e.g. `schedule.betaEnd`) the error must name. */
export interface InvalidOptionsCase {
  options: Record<string, unknown>;
  path: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a plugin of any kind with any option schema.
type AnyPlugin = PluginDefinition<PluginKind, any>;

/**
 * Checks parse(raw) → JSON → parse gives an equal object; why: run directories store the resolved
 * config as JSON and `diffusionlab sample` re-reads it, so parsed options must survive the trip.
 */
export function checkOptionsRoundTrip(plugin: AnyPlugin, raw: Record<string, unknown>, basePath: string): void {
  const first = parseOptions(plugin.options, raw, basePath);
  const second = parseOptions(plugin.options, JSON.parse(JSON.stringify(first)), basePath);
  if (JSON.stringify(second) !== JSON.stringify(first)) {
    throw new ConformanceError(`${plugin.name}: options change after a JSON round trip: ${JSON.stringify(first)} → ${JSON.stringify(second)}`);
  }
}

/**
 * Checks that parsing `c.options` at `basePath` and creating the plugin throws one ConfigError (from
 * any copy of core) with an issue at `c.path`; why: users fix configs by key, and a bad option must
 * stop the run before any work, never deep inside it.
 */
export async function checkRejects(plugin: AnyPlugin, c: InvalidOptionsCase, basePath: string): Promise<void> {
  let error: unknown;
  try {
    await plugin.create(parseOptions(plugin.options, c.options, basePath), testPluginContext());
  } catch (e) {
    error = e;
  }
  if (!isConfigError(error)) {
    throw new ConformanceError(
      `${plugin.name}: options ${JSON.stringify(c.options)} should throw a ConfigError naming ${c.path}, ` +
        `but ${error === undefined ? 'nothing was thrown' : `got ${String(error)}`}`,
    );
  }
  const paths = error.issues.map((i) => i.path);
  if (!paths.includes(c.path)) {
    throw new ConformanceError(`${plugin.name}: options ${JSON.stringify(c.options)} gave errors at [${paths.join(', ')}], expected ${c.path}`);
  }
}
