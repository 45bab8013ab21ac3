/**
 * File names that stay inside the run directory. A reporter's `file` option is joined to the run
 * directory; `../x`, an absolute path or `a/../../x` would write beside or far from the run, where
 * `--force` and cleanup never look, so the options schema refuses them before the run starts.
 */
import { z } from '@diffusionlab/core';

/**
 * Why `name` does not name a file inside the run directory, or null when it does: it must be a
 * relative path (no leading `/` or `\`, no drive letter), with no `..` segment, ending in a file name.
 */
export function runFileProblem(name: string): string | null {
  if (/^([/\\]|[A-Za-z]:)/.test(name)) return `must be a path relative to the run directory, got the absolute path ${JSON.stringify(name)}`;
  const parts = name.split(/[/\\]/);
  if (parts.includes('..')) return `must stay inside the run directory, but ${JSON.stringify(name)} climbs out of it with ".."`;
  const last = parts[parts.length - 1];
  if (last === '' || last === '.') return `must end in a file name, got ${JSON.stringify(name)}`;
  return null;
}

/** The `file` option of a reporter (the caller adds its description): a file name or sub-path inside the run directory, `defaultName` by default. */
export function runFileOption(defaultName: string) {
  return z
    .string()
    .min(1)
    .superRefine((name, ctx) => {
      const problem = runFileProblem(name);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default(defaultName);
}
