/**
 * From a config path and CLI overrides to a validated experiment with a registry that includes any
 * third-party plugin packages the config lists.
 */
import { dirname, resolve } from 'node:path';
import type { PluginRegistry } from '@diffusionlab/core';
import { applyOverrides, parseOverrides, type ResolvedExperiment, readConfigFile, resolveExperiment } from './config.js';
import { builtinRegistry, loadPluginPackages } from './plugins.js';

/** A config ready to run, with the registry that resolved it. */
export interface LoadedExperiment {
  resolved: ResolvedExperiment;
  registry: PluginRegistry;
  raw: Record<string, unknown>;
  configPath: string;
}

/** Reads, merges, overrides and validates a config file; throws ConfigError listing every problem. */
export async function loadExperiment(configPath: string, overrideArgs: readonly string[] = [], cwd = process.cwd()): Promise<LoadedExperiment> {
  const abs = resolve(cwd, configPath);
  const base = readConfigFile(abs);
  const raw = applyOverrides(base, parseOverrides(overrideArgs, false));
  const registry = builtinRegistry();
  const specs = Array.isArray(raw.plugins) ? (raw.plugins as unknown[]).filter((s): s is string => typeof s === 'string') : [];
  await loadPluginPackages(registry, specs, [dirname(abs), cwd]);
  return { resolved: resolveExperiment(raw, registry, configPath), registry, raw, configPath: abs };
}
