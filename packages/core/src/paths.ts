/**
 * Output paths of plugins: a reporter's `file:` (or any plugin's `dir:`) option names a place
 * inside the run directory, never outside it. One helper decides this for every plugin, so
 * `../../summary.json` or `/etc/x` is refused the same way everywhere, with the option's key.
 *
 * Pure string logic (no `node:` import): core also runs in the browser. POSIX separators are used
 * for the result; `\` also counts as a separator when looking for `..` escapes.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';

const isAbsolutePath = (p: string): boolean => p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(p);

/** `a/./b/../c` → `['a', 'c']`; null when `..` climbs above the start. */
function normalSegments(path: string): string[] | null {
  const out: string[] = [];
  for (const seg of path.split(/[\\/]+/)) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(seg);
  }
  return out;
}

/**
 * Why `name` cannot be a file inside an output directory (it is absolute, climbs out with `..`, or
 * names the directory itself), or null when it stays inside. Lets a schema refuse a bad name at
 * validation time, before the run directory exists.
 */
export function pathEscape(name: string): string | null {
  if (name.includes('\0')) return 'contains a NUL character';
  if (isAbsolutePath(name)) return `${JSON.stringify(name)} is an absolute path; give a name relative to the run directory`;
  const segs = normalSegments(name);
  if (segs === null) return `${JSON.stringify(name)} climbs out of the run directory with ".."; give a name inside it`;
  if (segs.length === 0) return `${JSON.stringify(name)} names the run directory itself, not a file inside it`;
  return null;
}

/**
 * Resolves a plugin's output `name` against `dir` and returns `dir/name` normalised, refusing
 * anything that would land outside `dir` (relative `..` escapes, absolute paths elsewhere, the
 * directory itself) with a ConfigError naming the option `key`. An absolute path inside an absolute
 * `dir` is accepted.
 */
export function resolveInside(dir: string, name: string, key: string): string {
  const refuse = (why: string): never => {
    throw new ConfigError({ path: key, message: `${why}; files a plugin writes must stay inside ${dir}` }, { hint: `use a plain name such as ${JSON.stringify(lastName(name))}` });
  };
  if (name === '' || name.includes('\0')) refuse(`${JSON.stringify(name)} is not a file name`);
  let segs: string[];
  if (isAbsolutePath(name)) {
    const root = isAbsolutePath(dir) ? normalSegments(dir) : null;
    const abs = normalSegments(name) ?? [];
    const inside = root !== null && abs.length > root.length && root.every((s, i) => abs[i] === s);
    if (!inside) refuse(`${JSON.stringify(name)} is outside the run directory`);
    segs = abs.slice((root as string[]).length);
  } else {
    const rel = normalSegments(name);
    if (rel === null) refuse(`${JSON.stringify(name)} climbs out of the run directory with ".."`);
    segs = rel as string[];
    if (segs.length === 0) refuse(`${JSON.stringify(name)} names the run directory itself, not a file inside it`);
  }
  const base = dir === '' ? '.' : dir.length > 1 ? dir.replace(/[\\/]+$/, '') : dir;
  return `${base}${base.endsWith('/') ? '' : '/'}${segs.join('/')}`;
}

/** The last path segment of `name` (for hints), or `name` itself when it has none. */
function lastName(name: string): string {
  const segs = name.split(/[\\/]+/).filter((s) => s !== '' && s !== '.' && s !== '..');
  return segs.at(-1) ?? 'output.txt';
}

/**
 * The schema of a plugin option that names a file inside the run directory: a non-empty relative
 * name that stays inside it. Checked when the config is validated, so a bad name is refused before
 * any work starts and the error names the full key (`reporters[0].file`).
 */
export function runFileOption(defaultName: string, description = 'File name inside the run directory.') {
  return z
    .string()
    .min(1)
    .superRefine((v, ctx) => {
      const why = pathEscape(v);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    })
    .default(defaultName)
    .describe(description);
}
