/**
 * The launcher flags of `sweep` and `worker` as launcher options: `--redis`, `--attempts`,
 * `--concurrency`, `--lock-seconds`, … become `{ redis, attempts, concurrency, lockSeconds }`, and
 * the launcher's own schema checks them (naming a flag it does not take). `--trials` and `--seed`
 * set up random search.
 */
import { ConfigError } from '@diffusionlab/core';
import type { SweepOptions } from './sweep.js';

/** Flags that are launcher options, with `--kebab-case` names for the options' camelCase keys. */
export const LAUNCHER_FLAGS = ['jobs', 'attempts', 'redis', 'queue', 'concurrency', 'lock-seconds', 'poll-seconds'];
const TEXT_FLAGS = new Set(['redis', 'queue']);

/** A flag that must be a number; a clear error naming it otherwise. */
function numberFlag(name: string, v: string | boolean | string[]): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) throw new ConfigError({ path: `--${name}`, message: `must be a number, got ${JSON.stringify(v)}` });
  return n;
}

/** The launcher options given as flags (only those given: the launcher's schema fills the defaults). */
export function launcherFlagOptions(flags: Record<string, string | boolean | string[]>): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const f of LAUNCHER_FLAGS) {
    const v = flags[f];
    if (v === undefined) continue;
    const key = f.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    options[key] = TEXT_FLAGS.has(f) ? v : numberFlag(f, v);
  }
  return options;
}

/** The launcher and random-search parts of {@link SweepOptions} from parsed flags. */
export function sweepLaunchFlags(flags: Record<string, string | boolean | string[]>): Pick<SweepOptions, 'launcher' | 'launcherOptions' | 'trials' | 'searchSeed'> {
  const launcher = typeof flags.launcher === 'string' ? flags.launcher : 'local';
  const options = launcherFlagOptions(flags);
  if (launcher === 'local') options.jobs ??= 1;
  const int = (name: string) => (flags[name] === undefined ? undefined : numberFlag(name, flags[name]));
  return { launcher, launcherOptions: options, trials: int('trials'), searchSeed: int('seed') };
}
