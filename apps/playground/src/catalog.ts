/**
 * The plugins the playground offers, per kind: exactly the `plugins` arrays the packages' browser
 * entries export, so a plugin added to a package appears here (with its generated form) without UI code.
 */
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { plugins as datasetPlugins, fileDatasetFromBytes } from '@diffusionlab/datasets';
import { plugins as denoiserPlugins } from '@diffusionlab/denoisers';
import { plugins as metricPlugins } from '@diffusionlab/metrics';
import { plugins as samplerPlugins } from '@diffusionlab/samplers';
import { plugins as schedulePlugins } from '@diffusionlab/schedules';

/** The plugin kinds a playground setup chooses (reporters are the page itself). */
export type SlotKind = 'dataset' | 'schedule' | 'denoiser' | 'sampler' | 'metric';

/** Data files the user dropped, by name: what the page's `file` dataset reads instead of a disk. */
const dataFiles = new Map<string, Uint8Array>();

/** Keeps a dropped data file under its name, so `dataset: { use: file, path: <name> }` reads it. */
export function holdDataFile(name: string, bytes: Uint8Array): void {
  dataFiles.set(name, bytes);
}

/** The dropped data files (posted to the worker with each run). */
export function heldDataFiles(): Record<string, Uint8Array> {
  return Object.fromEntries(dataFiles);
}

/** The datasets package's `file` dataset over the dropped files (same name, options and split as the CLI's). */
export const droppedFileDataset: AnyPluginDefinition = fileDatasetFromBytes((path) => dataFiles.get(path));

/** Every browser-safe plugin, by kind, in the packages' own order (the dropped-file dataset last, as in Node's list). */
export const CATALOG: Readonly<Record<SlotKind, readonly AnyPluginDefinition[]>> = {
  // In Node (tests) the package's entry also has the disk-reading plugin of that name: the in-memory one replaces it.
  dataset: [...datasetPlugins.filter((p) => p.name !== droppedFileDataset.name), droppedFileDataset],
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
