/**
 * Where two resolved configs differ, as dotted keys: `--resume` refuses a config that differs from
 * the run it continues, and `sample` one that changes the trained model. One walk for both, so they
 * name a difference the same way.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every dotted leaf key where two plain JSON values differ (arrays and scalars compare whole; key
 * order does not matter). A plugin's `use` comes first among its keys: a different plugin is the
 * real reason, not the options that came with it. `prefix` names the values themselves; equal
 * values give `[]`, and values that differ at the top give `[prefix]` (or `(root)` without one).
 */
export function diffKeys(a: unknown, b: unknown, prefix = ''): string[] {
  if (!isObject(a) || !isObject(b)) return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(root)'];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const ordered = keys.has('use') ? ['use', ...[...keys].filter((k) => k !== 'use')] : [...keys];
  return ordered.flatMap((k) => diffKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
}

/** The first key {@link diffKeys} finds (`schedule.timesteps`), or null when the values are equal. */
export function firstDifference(a: unknown, b: unknown, path: string): string | null {
  return diffKeys(a, b, path)[0] ?? null;
}
