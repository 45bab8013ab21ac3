/**
 * @diffusionlab/launchers: where the trials of a `diffusionlab sweep` run. `local` (the default)
 * runs them on this machine; `bullmq` spreads them over workers on any machines through Redis. A launcher is a plain `{ kind: 'launcher', name, options, create }`
 * object from `@diffusionlab/core`; the runner loads this package's `launchers` list, or another
 * package's, by name (`--launcher <name or package>`).
 */
import type { AnyLauncherDefinition } from '@diffusionlab/core';
import { bullmqLauncher } from './bullmq.js';
import { localLauncher } from './local.js';

export * from './bullmq.js';
export * from './local.js';
export * from './pack.js';

/** Every launcher in this package; `local` first, the default. */
export const launchers: AnyLauncherDefinition[] = [localLauncher, bullmqLauncher];
