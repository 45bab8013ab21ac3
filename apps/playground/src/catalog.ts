/**
 * The plugins the playground offers, per kind: exactly the `plugins` arrays the packages' browser
 * entries export, so a plugin added to a package appears here (with its generated form) without UI code.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { plugins as datasetPlugins } from '@diffusionlab/datasets';
import { plugins as denoiserPlugins } from '@diffusionlab/denoisers';
import { plugins as metricPlugins } from '@diffusionlab/metrics';
import { plugins as samplerPlugins } from '@diffusionlab/samplers';
import { plugins as schedulePlugins } from '@diffusionlab/schedules';

/** The plugin kinds a playground setup chooses (reporters are the page itself). */
export type SlotKind = 'dataset' | 'schedule' | 'denoiser' | 'sampler' | 'metric';

/** Every browser-safe plugin, by kind, in the packages' own order. */
export const CATALOG: Readonly<Record<SlotKind, readonly AnyPluginDefinition[]>> = {
  dataset: datasetPlugins,
  schedule: schedulePlugins,
  denoiser: denoiserPlugins,
  sampler: samplerPlugins,
  metric: metricPlugins,
};

/** The plugin of `kind` called `name`; throws naming the valid choices, so a bad imported setup fails clearly. */
export function pluginOf(kind: SlotKind, name: string): AnyPluginDefinition {
  const found = CATALOG[kind].find((p) => p.name === name);
  if (!found) throw new Error(`Unknown ${kind} "${name}": choose one of ${CATALOG[kind].map((p) => p.name).join(', ')}`);
  return found;
}
