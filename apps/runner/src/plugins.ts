/**
 * The registry the CLI uses: every built-in package's `plugins`, plus the packages a config lists
 * under `plugins:` (resolved from the config's folder, then the working directory).
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AnyPluginDefinition, ConfigError, PLUGIN_KINDS, PluginRegistry } from '@diffusionlab/core';
import { plugins as datasets } from '@diffusionlab/datasets';
import { plugins as denoisers } from '@diffusionlab/denoisers';
import { plugins as metrics } from '@diffusionlab/metrics';
import { plugins as reporters } from '@diffusionlab/reporters';
import { plugins as samplers } from '@diffusionlab/samplers';
import { plugins as schedules } from '@diffusionlab/schedules';

/** The built-in plugin packages, in the order `list` shows them. */
export const BUILTIN_PACKAGES: Record<string, readonly AnyPluginDefinition[]> = {
  '@diffusionlab/datasets': datasets as readonly AnyPluginDefinition[],
  '@diffusionlab/schedules': schedules as readonly AnyPluginDefinition[],
  '@diffusionlab/denoisers': denoisers as readonly AnyPluginDefinition[],
  '@diffusionlab/samplers': samplers as readonly AnyPluginDefinition[],
  '@diffusionlab/metrics': metrics as readonly AnyPluginDefinition[],
  '@diffusionlab/reporters': reporters as readonly AnyPluginDefinition[],
};

/** A registry with every built-in plugin. */
export function builtinRegistry(): PluginRegistry {
  const r = new PluginRegistry();
  for (const [pkg, list] of Object.entries(BUILTIN_PACKAGES)) r.addAll(list, pkg);
  return r;
}

/** The ESM entry of the package in `pkgDir` (its `exports["."]` import/default, else module/main/index.js). */
function packageEntry(pkgDir: string): string {
  const meta = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const exp = meta.exports?.['.'] ?? meta.exports;
  const entry = (typeof exp === 'string' ? exp : (exp?.import?.default ?? exp?.import ?? exp?.default)) ?? meta.module ?? meta.main ?? 'index.js';
  return join(pkgDir, typeof entry === 'string' ? entry : 'index.js');
}

/**
 * Finds a package's ESM entry: a path (`./my-plugins`, a folder with package.json or a file), or a
 * package name looked up in node_modules folders walking up from `fromDir`.
 */
export function resolvePackageEntry(spec: string, fromDir: string): string | null {
  if (spec.startsWith('.') || isAbsolute(spec)) {
    const p = resolve(fromDir, spec);
    if (!existsSync(p)) return null;
    if (!statSync(p).isDirectory()) return p;
    if (existsSync(join(p, 'package.json'))) return packageEntry(p);
    return existsSync(join(p, 'index.js')) ? join(p, 'index.js') : null;
  }
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  let dir = resolve(fromDir);
  for (;;) {
    const pkgDir = join(dir, 'node_modules', name);
    if (existsSync(join(pkgDir, 'package.json'))) return packageEntry(pkgDir);
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Loads third-party plugin packages into `registry`; each failure is a ConfigError at `plugins[i]`. */
export async function loadPluginPackages(registry: PluginRegistry, specs: readonly string[], fromDirs: readonly string[]): Promise<void> {
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i];
    const path = `plugins[${i}]`;
    const found = fromDirs.map((d) => resolvePackageEntry(spec, d)).find((e) => e !== null);
    // Real path, as Node resolves modules: a symlinked package finds its dependencies where it really lives.
    const entry = found && existsSync(found) ? realpathSync(found) : found;
    if (!entry) {
      throw new ConfigError({
        path,
        message: `plugin package ${JSON.stringify(spec)} is not installed (looked in node_modules above ${fromDirs.join(' and ')}); install it with \`pnpm add ${spec}\``,
      });
    }
    let mod: Record<string, unknown>;
    try {
      mod = await import(pathToFileURL(entry).href);
    } catch (e) {
      throw new ConfigError({ path, message: `plugin package ${JSON.stringify(spec)} failed to load: ${(e as Error).message}` });
    }
    const list = mod.plugins ?? (mod.default as Record<string, unknown> | undefined)?.plugins;
    const valid =
      Array.isArray(list) &&
      list.every((p) => p && typeof p === 'object' && PLUGIN_KINDS.includes(p.kind) && typeof p.name === 'string' && typeof p.create === 'function' && p.options);
    if (!valid) {
      throw new ConfigError({
        path,
        message: `package ${JSON.stringify(spec)} does not export \`plugins\`: an array of plugin definitions ({ kind, name, description, options, create })`,
      });
    }
    registry.addAll(list as AnyPluginDefinition[], spec);
  }
}
