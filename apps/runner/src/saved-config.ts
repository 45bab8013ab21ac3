/**
 * A run directory's config.yaml, read again through today's schemas. A key that a later version
 * added (with its default) is then present on both sides of a resume check, so upgrading
 * diffusionlab between an interrupted run and its `--resume` is not taken for a config change;
 * a key the user set differently still is.
 */
import { type AnyPluginDefinition, PluginRegistry } from '@diffusionlab/core';
import { type ResolvedExperiment, resolveExperiment, resolvedConfigObject } from './config.js';

type Json = Record<string, unknown>;

/** Every plugin definition the experiment uses, once each (what resolving its saved twin needs). */
function definitionsOf(r: ResolvedExperiment): AnyPluginDefinition[] {
  return [...new Set([r.dataset, r.schedule, r.denoiser, r.sampler, ...r.metrics, ...r.reporters].map((s) => s.def))];
}

/**
 * The saved config with today's defaults filled in, resolved with the plugins `r` uses; the saved
 * config as it is when it names another plugin or no longer validates (the comparison then shows
 * that difference by itself).
 */
export function savedConfigWithCurrentDefaults(saved: Json, r: ResolvedExperiment): Json {
  try {
    return resolvedConfigObject(resolveExperiment(saved, new PluginRegistry(definitionsOf(r))));
  } catch {
    return saved;
  }
}
