/**
 * Finds the launcher `--launcher` names: a built-in one (`local`, the default; `bullmq`) from
 * @diffusionlab/launchers, or any package (name or path, resolved from the working directory) whose
 * `launchers` export lists launcher definitions — a SLURM or Kubernetes launcher needs no runner change.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type AnyLauncherDefinition, ConfigError, isLauncherDefinition, type z, zodIssues } from '@diffusionlab/core';
import { launchers as builtin } from '@diffusionlab/launchers';
import { resolvePackageEntry } from './plugins.js';

/** A launcher definition with its options validated. */
export interface ChosenLauncher {
  def: AnyLauncherDefinition;
  options: Record<string, unknown>;
}

/** The launchers a package exports (its `launchers` array); a ConfigError at `--launcher` when it has none. */
async function packageLaunchers(spec: string, cwd: string): Promise<AnyLauncherDefinition[]> {
  const entry = resolvePackageEntry(spec, cwd);
  if (!entry) {
    throw new ConfigError(
      {
        path: '--launcher',
        message: `unknown launcher ${JSON.stringify(spec)}: not a built-in one (${builtin.map((l) => l.name).join(', ')}) and no package of that name is installed above ${cwd}`,
      },
      { hint: `use --launcher ${builtin.map((l) => l.name).join(' or --launcher ')}, or install the launcher package (pnpm add ${spec})` },
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(realpathSync(entry)).href);
  } catch (e) {
    throw new ConfigError({ path: '--launcher', message: `launcher package ${JSON.stringify(spec)} failed to load: ${(e as Error).message}` });
  }
  const list = Array.isArray(mod.launchers) ? mod.launchers.filter(isLauncherDefinition) : [];
  if (list.length === 0)
    throw new ConfigError({
      path: '--launcher',
      message: `package ${JSON.stringify(spec)} exports no \`launchers\` list of { kind: 'launcher', name, options, create } definitions`,
    });
  return list;
}

/**
 * The launcher named by `--launcher` (a built-in name, or a package whose first launcher is taken,
 * or `package:name`) with `options` validated by its schema: an unknown option names the flag.
 */
export async function chooseLauncher(name: string, options: Record<string, unknown>, cwd: string): Promise<ChosenLauncher> {
  let def = builtin.find((l) => l.name === name);
  if (!def) {
    const [spec, inner] = name.startsWith('@') ? [name.split(':')[0], name.split(':')[1]] : (name.split(':') as [string, string | undefined]);
    const list = await packageLaunchers(spec, cwd);
    def = inner === undefined ? list[0] : list.find((l) => l.name === inner);
    if (!def)
      throw new ConfigError({
        path: '--launcher',
        message: `package ${JSON.stringify(spec)} has no launcher ${JSON.stringify(inner)}; it has ${list.map((l) => l.name).join(', ')}`,
      });
  }
  return { def, options: launcherOptions(def, options) };
}

/** Validates a launcher's options; each problem names its command-line flag (`--redis`) and the launcher. */
function launcherOptions(def: AnyLauncherDefinition, options: Record<string, unknown>): Record<string, unknown> {
  const result = (def.options as z.ZodType).safeParse(options);
  if (result.success) return result.data as Record<string, unknown>;
  const known = Object.keys((def.options as { shape?: object }).shape ?? {}).map((k) => `--${k}`);
  const issues = result.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: `--${k}`, message: `is not an option of the ${def.name} launcher (its options: ${known.join(', ') || 'none'})` }))
      : zodIssues({ issues: [i] } as z.ZodError, '', def.options).map((x) => ({
          ...x,
          path: `--${String(i.path[0] ?? def.name)}`,
          message: `${x.message} (launcher ${def.name})`,
        })),
  );
  throw new ConfigError(issues);
}
