/**
 * The `sweep` command's launcher and search flags as {@link SweepOptions}: `--launcher`, `--attempts`
 * and `--redis` become the launcher's options (its schema checks them and names a flag it does not
 * take); `--trials` and `--seed` set up random search.
 */
import { ConfigError } from '@diffusionlab/core';
import type { SweepOptions } from './sweep.js';

/** A flag that must be an integer; a clear error naming it otherwise. */
function intFlag(flags: Record<string, string | boolean | string[]>, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isInteger(n)) throw new ConfigError({ path: `--${name}`, message: `must be an integer, got ${JSON.stringify(v)}` });
  return n;
}

/** The launcher and random-search parts of {@link SweepOptions} from parsed flags (`--jobs` is read by the caller). */
export function sweepLaunchFlags(flags: Record<string, string | boolean | string[]>): Pick<SweepOptions, 'launcher' | 'launcherOptions' | 'trials' | 'searchSeed'> {
  const launcher = typeof flags.launcher === 'string' ? flags.launcher : 'local';
  const options: Record<string, unknown> = {};
  const jobs = intFlag(flags, 'jobs');
  if (jobs !== undefined || launcher === 'local') options.jobs = jobs ?? 1;
  const attempts = intFlag(flags, 'attempts');
  if (attempts !== undefined) options.attempts = attempts;
  if (flags.redis !== undefined) options.redis = flags.redis;
  return { launcher, launcherOptions: options, trials: intFlag(flags, 'trials'), searchSeed: intFlag(flags, 'seed') };
}
