// One naming convention for exported plugins across every package: `<name in camelCase><Kind>`
// (`ddpmSampler`, `cosineSchedule`, `w1Metric`, `consoleReporter`; see CONTRIBUTING.md "Naming
// plugins"). Each plugin in a package's `plugins` list must be exported under exactly that name;
// any other name bound to it must be a deprecated alias from the package's `deprecated.ts`.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyPluginDefinition } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** `dpmpp-2m-sde` → `dpmpp2mSde`, `seed-mlp` → `seedMlp`. */
const camel = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
const expected = (p: AnyPluginDefinition) => `${camel(p.name)}${p.kind[0].toUpperCase()}${p.kind.slice(1)}`;

const packages = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'src/index.ts')));

describe('exported plugin names', () => {
  for (const dir of packages) {
    it(`@diffusionlab/${dir} exports each plugin as <name><Kind>`, async () => {
      const mod = (await import(join(root, 'packages', dir, 'src/index.ts'))) as Record<string, unknown>;
      const deprecatedFile = join(root, 'packages', dir, 'src/deprecated.ts');
      const deprecated = existsSync(deprecatedFile) ? Object.keys(await import(deprecatedFile)) : [];
      const plugins = (mod.plugins ?? []) as readonly AnyPluginDefinition[];
      for (const p of plugins) {
        const names = Object.keys(mod).filter((k) => mod[k] === p && k !== 'plugins');
        const current = names.filter((n) => !deprecated.includes(n));
        expect(current, `${p.kind} ${p.name} in @diffusionlab/${dir}`).toEqual([expected(p)]);
      }
      // Every deprecated alias still points at an export of this package under its new name; an alias of a plugin, at
      // one of this package's plugins (testkit's deprecated.ts aliases helpers, not plugins).
      for (const old of deprecated) {
        const renamed = Object.keys(mod).filter((k) => !deprecated.includes(k) && k !== 'plugins' && mod[k] === mod[old]);
        expect(renamed, `deprecated alias ${old} in @diffusionlab/${dir}`).not.toEqual([]);
        const v = mod[old] as Partial<AnyPluginDefinition>;
        if (typeof v === 'object' && v !== null && 'kind' in v && 'create' in v) expect(plugins, `deprecated alias ${old}`).toContain(mod[old]);
      }
    });
  }
});
