// Every library package runs in a browser bundle: Vite bundles each package's browser entry (what
// a web app gets from `import … from '@diffusionlab/<name>'`, resolved through the package's
// `exports` with the `browser` condition, from its built `dist/`) and the test fails on any Node
// built-in (`node:fs`, `os`, `worker_threads`, …) reachable from it, static or dynamic, naming the
// chain of modules that leads there. Native addons (`.node` files) count as built-ins: no browser loads them. One Vite build bundles all packages (one input each), so the
// test costs one bundling pass. `pnpm build` first, as CI does.
//
// A built-in that a package's own `browser` field maps to `false` (tfjs does this for `util`,
// `crypto`, …) never reaches the bundle and is not counted; an npm polyfill that shares a
// built-in's name (the `buffer` package) is a real module and is not counted either.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'vite';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The packages that must run in a browser (DESIGN.md, "Browser-safe libraries"). */
const PACKAGES = ['core', 'schedules', 'samplers', 'datasets', 'denoisers', 'metrics', 'kernels', 'reporters'] as const;

/**
 * Names a package must NOT offer in the browser (Node-only by nature: file paths, the digits
 * loader, PNG rendering), so the test also fails when a browser entry quietly re-exports them.
 */
const NODE_ONLY: Partial<Record<(typeof PACKAGES)[number], string[]>> = {
  datasets: ['fileDataset', 'digitsDataset', 'readTable', 'loadMnistDigit'],
  metrics: ['digitClassifierMetric', 'loadDigitClassifier'],
  reporters: ['renderPng', 'svgToPng', 'encodePng', 'writeFileAtomic', 'histogramReporter', 'htmlReporter'],
};

/**
 * Names the browser entry MUST keep: the parts a web page needs from each split package
 * (pure data sets, parsers for a dropped file, figure specs), so a split cannot silently drop them.
 */
const BROWSER_KEEPS: Partial<Record<(typeof PACKAGES)[number], string[]>> = {
  datasets: ['gaussianMixtureDataset', 'moonsDataset', 'parseDelimited', 'parseNpyTable', 'datasetFromTable', 'plugins'],
  metrics: ['w1Metric', 'mmdMetric', 'plugins'],
  reporters: ['histogramSpec', 'scatterSpec', 'lossSpec', 'scheduleSpec', 'trajectorySpec', 'SERIES_COLORS'],
  kernels: ['sampleDdpmFused', 'createFusedMlpTrainer', 'simdSupported'],
  denoisers: ['registerDenoiserLayers', 'plugins'],
};

/** Where the entries live: under the runner's node_modules, so `@diffusionlab/*` resolve as in an app. */
const dir = join(root, 'apps/runner/node_modules/.cache/browser-bundle');

/** One Node built-in reached from a bundle input, with the importer chain from the input down to it. */
interface Violation {
  builtin: string;
  chain: string[];
}

/**
 * A Vite plugin that records every Node built-in import (keeping it external so the build goes on
 * and reports all of them) and, for every module, the first importer that reached it.
 */
function builtinGuard(found: Violation[]): Plugin {
  const parent = new Map<string, string>();
  const chainTo = (id: string): string[] => {
    const chain = [id];
    for (let p = parent.get(id); p !== undefined && !chain.includes(p); p = parent.get(p)) chain.unshift(p);
    return chain.map((m) => relative(root, m));
  };
  return {
    name: 'node-builtin-guard',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (importer === undefined) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      // Vite resolves a built-in that the importing package's `browser` field maps to `false` to the
      // empty module `__vite-browser-external`; any other built-in stays unresolved or becomes
      // `__vite-browser-external:<name>` (a stub that throws when used).
      const mappedAway = resolved?.id === '__vite-browser-external';
      const nativeAddon = resolved?.id.endsWith('.node') ?? false;
      if (!mappedAway && (nativeAddon || ((source.startsWith('node:') || isBuiltin(source)) && (resolved === null || resolved.id.startsWith('__vite-browser-external'))))) {
        found.push({ builtin: source, chain: chainTo(importer) });
        return { id: source, external: true };
      }
      if (resolved && !parent.has(resolved.id)) parent.set(resolved.id, importer);
      return resolved;
    },
  };
}

/** The entry that imports one package the way a web app does and keeps every export alive. */
const entryOf = (pkg: string) => `export * from '@diffusionlab/${pkg}';\n`;

const violations = new Map<string, Violation[]>();
const exportsOf = new Map<string, string[]>();

beforeAll(async () => {
  const missing = PACKAGES.filter((p) => !existsSync(join(root, 'packages', p, 'dist/index.js')));
  if (missing.length > 0) throw new Error(`Build the packages first (pnpm build): no dist/ in ${missing.join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const input: Record<string, string> = {};
  for (const p of PACKAGES) {
    input[p] = join(dir, `${p}.js`);
    writeFileSync(input[p], entryOf(p));
  }
  // The guard's own check: a chain entry → a → b → node:fs must be caught and named.
  writeFileSync(join(dir, 'selftest-b.js'), "import { readFileSync } from 'node:fs';\nexport const read = (p) => readFileSync(p);\n");
  writeFileSync(join(dir, 'selftest-a.js'), "export { read } from './selftest-b.js';\n");
  input.selftest = join(dir, 'selftest.js');
  writeFileSync(input.selftest, "export * from './selftest-a.js';\n");

  const found: Violation[] = [];
  const out = await build({
    configFile: false,
    root: dir,
    logLevel: 'silent',
    build: { write: false, minify: false, emptyOutDir: false, rolldownOptions: { input, preserveEntrySignatures: 'strict' } },
    plugins: [builtinGuard(found)],
  });
  const outputs = Array.isArray(out) ? out : [out];
  for (const o of outputs) {
    if (!('output' in o)) continue;
    for (const chunk of o.output) if (chunk.type === 'chunk' && chunk.isEntry && chunk.name) exportsOf.set(chunk.name, chunk.exports);
  }
  for (const name of Object.keys(input)) {
    const file = relative(root, input[name]);
    violations.set(
      name,
      found.filter((v) => v.chain[0] === file),
    );
  }
}, 300_000);

const describeChains = (vs: Violation[]) => vs.map((v) => `${v.builtin} via ${v.chain.join(' → ')}`).join('\n');

describe('browser bundles (Vite, exports condition "browser")', () => {
  it('the guard itself catches a Node built-in two modules deep and names the chain', () => {
    expect(describeChains(violations.get('selftest') ?? [])).toBe(
      'node:fs via apps/runner/node_modules/.cache/browser-bundle/selftest.js → apps/runner/node_modules/.cache/browser-bundle/selftest-a.js → apps/runner/node_modules/.cache/browser-bundle/selftest-b.js',
    );
  });

  for (const pkg of PACKAGES) {
    it(`@diffusionlab/${pkg} reaches no Node built-in`, () => {
      const vs = violations.get(pkg);
      expect(vs, 'bundle did not run').toBeDefined();
      expect(describeChains(vs ?? []), `Node built-ins reachable from @diffusionlab/${pkg}'s browser entry`).toBe('');
      const names = exportsOf.get(pkg) ?? [];
      expect(names.length, 'the browser entry exports nothing').toBeGreaterThan(0);
      for (const keep of BROWSER_KEEPS[pkg] ?? []) expect(names, `browser entry lost ${keep}`).toContain(keep);
      for (const nodeOnly of NODE_ONLY[pkg] ?? []) expect(names, `browser entry offers Node-only ${nodeOnly}`).not.toContain(nodeOnly);
    });
  }
});
