/**
 * The dependency rules of CONTRIBUTING.md, checked on the real tree: a plugin package (every
 * packages/* but core) depends on @diffusionlab/core and on no sibling; testkit depends on core only;
 * core on no @diffusionlab package. Shipped source (what the package's tsconfig builds) imports only
 * relative files, Node builtins, core and the third-party packages it declares as dependencies or
 * peers; test files (what the tsconfig excludes) may also use its devDependencies and the repo's.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const CORE = '@diffusionlab/core';
const TESTKIT = '@diffusionlab/testkit';
const SCOPE = '@diffusionlab/';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** The package a bare import specifier names: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every module specifier a TypeScript/JavaScript source imports, re-exports or loads dynamically. */
function importsOf(source: string): string[] {
  const out: string[] = [];
  // Comments may quote imports (`import '@tensorflow/tfjs'` in prose); they load nothing.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
  const patterns = [
    /\b(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1]);
  return out;
}

/** A tsconfig `exclude` glob (`src/**\/*.test.ts`, `src/test`) as a matcher of package-relative paths. */
function globMatcher(glob: string): (path: string) => boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (glob.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(`^${re}(?:/.*)?$`);
  return (path) => rx.test(path);
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : /\.(?:[mc]?ts|[mc]?js)$/.test(name) ? [p] : [];
  });
}

/** One broken rule: the file (or package.json) and what is wrong. */
interface Violation {
  file: string;
  message: string;
}

/**
 * The rule breaks of the package in `dir`. `siblingsAllowed` lists the @diffusionlab packages it may
 * depend on (core for plugin packages and testkit, none for core); `devAllowed` those its tests may
 * use as devDependencies (testkit for plugin packages); `repoDev` the repository's own devDependencies.
 */
function checkPackage(dir: string, siblingsAllowed: readonly string[], devAllowed: readonly string[], repoDev: readonly string[] = []): Violation[] {
  const pkg = readJson<Manifest>(join(dir, 'package.json'));
  const out: Violation[] = [];
  const shipped = { ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies };
  for (const [field, deps] of Object.entries({ dependencies: pkg.dependencies, peerDependencies: pkg.peerDependencies, optionalDependencies: pkg.optionalDependencies })) {
    for (const name of Object.keys(deps ?? {})) {
      if (name.startsWith(SCOPE) && !siblingsAllowed.includes(name))
        out.push({ file: 'package.json', message: `${field} declares ${name}; allowed: ${siblingsAllowed.join(', ') || 'none'}` });
    }
  }
  for (const name of Object.keys(pkg.devDependencies ?? {})) {
    if (name.startsWith(SCOPE) && !siblingsAllowed.includes(name) && !devAllowed.includes(name)) {
      out.push({ file: 'package.json', message: `devDependencies declares ${name}; allowed: ${[...siblingsAllowed, ...devAllowed].join(', ') || 'none'}` });
    }
  }
  const tsconfig = readJson<{ exclude?: string[] }>(join(dir, 'tsconfig.json'));
  const excluded = (tsconfig.exclude ?? []).map(globMatcher);
  const builtins = new Set(builtinModules);
  for (const file of walk(join(dir, 'src'))) {
    const rel = relative(dir, file).split('\\').join('/');
    const isTest = excluded.some((m) => m(rel));
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
      const name = packageOf(spec);
      if (name === pkg.name) continue;
      if (name.startsWith(SCOPE)) {
        const ok = siblingsAllowed.includes(name) || (isTest && devAllowed.includes(name) && name in (pkg.devDependencies ?? {}));
        if (!ok)
          out.push({
            file: rel,
            message: `imports ${spec}: ${isTest ? 'tests' : 'shipped code'} may import ${[...siblingsAllowed, ...(isTest ? devAllowed : [])].join(', ') || 'no @diffusionlab package'}${isTest && devAllowed.includes(name) ? ` (declare it in devDependencies)` : ''}`,
          });
        continue;
      }
      const declared = name in shipped || (isTest && (name in (pkg.devDependencies ?? {}) || repoDev.includes(name)));
      if (!declared)
        out.push({
          file: rel,
          message: `imports ${spec}, which package.json does not declare${isTest ? ' (not even in devDependencies)' : ' in dependencies or peerDependencies'}`,
        });
    }
  }
  return out;
}

const repoDev = Object.keys(readJson<Manifest>(join(root, 'package.json')).devDependencies ?? {});
const packages = readdirSync(join(root, 'packages')).filter((d) => statSync(join(root, 'packages', d, 'package.json'), { throwIfNoEntry: false })?.isFile());

describe('dependency rules (CONTRIBUTING.md)', () => {
  it('finds the packages', () => {
    expect(packages).toEqual(expect.arrayContaining(['core', 'testkit', 'datasets', 'denoisers', 'samplers', 'schedules', 'metrics', 'reporters']));
  });
  for (const dir of packages) {
    const rules = dir === 'core' ? { siblings: [], dev: [] } : dir === 'testkit' ? { siblings: [CORE], dev: [] } : { siblings: [CORE], dev: [TESTKIT] };
    it(`packages/${dir} depends on ${rules.siblings.join(', ') || 'no @diffusionlab package'} only, and imports only what it declares`, () => {
      const found = checkPackage(join(root, 'packages', dir), rules.siblings, rules.dev, repoDev);
      expect(found.map((v) => `${v.file}: ${v.message}`)).toEqual([]);
    });
  }
});

describe('the dependency check itself', () => {
  it('reports sibling dependencies and undeclared or sibling imports in a fixture package', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-deps-'));
    try {
      mkdirSync(join(dir, 'src'));
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({
          name: '@diffusionlab/fixture',
          dependencies: { [CORE]: 'workspace:^', '@diffusionlab/samplers': 'workspace:^', yaml: '2' },
          devDependencies: { [TESTKIT]: 'workspace:^', '@diffusionlab/metrics': 'workspace:^' },
        }),
      );
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ exclude: ['src/**/*.test.ts'] }));
      writeFileSync(
        join(dir, 'src', 'a.ts'),
        [
          "import { z } from '@diffusionlab/core';",
          "import { ddim } from '@diffusionlab/samplers';",
          "import YAML from 'yaml';",
          "import { readFile } from 'node:fs';",
          "import path from 'path';",
          "export { x } from './b.js';",
          "const lazy = () => import('lodash/fp');",
          "import { conformance } from '@diffusionlab/testkit';",
        ].join('\n'),
      );
      writeFileSync(join(dir, 'src', 'a.test.ts'), "import { expect } from 'vitest';\nimport { x } from '@diffusionlab/testkit';\nimport { y } from '@diffusionlab/datasets';\n");
      const found = checkPackage(dir, [CORE], [TESTKIT], ['vitest']).map((v) => `${v.file}: ${v.message}`);
      expect(found).toEqual([
        'package.json: dependencies declares @diffusionlab/samplers; allowed: @diffusionlab/core',
        'package.json: devDependencies declares @diffusionlab/metrics; allowed: @diffusionlab/core, @diffusionlab/testkit',
        'src/a.test.ts: imports @diffusionlab/datasets: tests may import @diffusionlab/core, @diffusionlab/testkit',
        'src/a.ts: imports @diffusionlab/samplers: shipped code may import @diffusionlab/core',
        'src/a.ts: imports @diffusionlab/testkit: shipped code may import @diffusionlab/core',
        'src/a.ts: imports lodash/fp, which package.json does not declare in dependencies or peerDependencies',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses import forms and package names', () => {
    expect(
      importsOf("import a from 'x';\nimport 'side';\nexport * from \"@s/p/deep\";\n// import 'comment';\n/* import('block') */\nawait import('dyn');\nrequire('cjs');"),
    ).toEqual(['x', '@s/p/deep', 'side', 'dyn', 'cjs']);
    expect(packageOf('@s/p/deep')).toBe('@s/p');
    expect(packageOf('vega-lite/build/x')).toBe('vega-lite');
  });
});
