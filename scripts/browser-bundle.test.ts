// Every library package runs in a browser bundle: Vite bundles each package's browser entry (what
// a web app gets from `import … from '@diffusionlab/<name>'`, resolved through the package's
// `exports` with the `browser` condition, from its built `dist/`) and the test fails on any Node
// built-in (`node:fs`, `os`, `worker_threads`, …) reachable from it, static or dynamic, naming the
// chain of modules that leads there. Native addons (`.node` files) count as built-ins: no browser loads them. One Vite build bundles all packages (one input each), so the
// test costs one bundling pass. `pnpm build` first, as CI does.
//
// The same build holds a page that imports all of them, served from 127.0.0.1 to headless Chromium,
// which runs scripts/browser-smoke.mjs (oracle DDPM on the reference mixture, W1, the fused wasm
// DDPM loop against tfjs's, a figure spec); Node runs the same file on the Node entries, and the
// two must agree. No request may leave 127.0.0.1 and the page must log no error. Chromium comes from
// `CHROMIUM_PATH`, else `chromium` / `chromium-browser` on PATH; without one that test fails and
// says how to install it, unless DIFFUSIONLAB_SKIP_BROWSER=1.
//
// A built-in that a package's own `browser` field maps to `false` (tfjs does this for `util`,
// `crypto`, …) never reaches the bundle and is not counted; an npm polyfill that shares a
// built-in's name (the `buffer` package) is a real module and is not counted either.
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire, isBuiltin } from 'node:module';
import type { AddressInfo } from 'node:net';
import { delimiter, extname, join, normalize, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as core from '@diffusionlab/core';
import * as datasets from '@diffusionlab/datasets';
import * as denoisers from '@diffusionlab/denoisers';
import * as kernels from '@diffusionlab/kernels';
import * as metrics from '@diffusionlab/metrics';
import * as reporters from '@diffusionlab/reporters';
import * as samplers from '@diffusionlab/samplers';
import * as schedules from '@diffusionlab/schedules';
import { type Browser, chromium } from 'playwright-core';
import { build, type Plugin } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smoke } from './browser-smoke.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The packages that must run in a browser (DESIGN.md, "Browser-safe libraries"). */
const PACKAGES = ['core', 'schedules', 'samplers', 'datasets', 'denoisers', 'metrics', 'kernels', 'reporters'] as const;

/**
 * Names a package must NOT offer in the browser (Node-only by nature: file paths, the digits
 * loader, PNG rendering), so the test also fails when a browser entry quietly re-exports them.
 */
const NODE_ONLY: Partial<Record<(typeof PACKAGES)[number], string[]>> = {
  datasets: ['fileDataset', 'digitsDataset', 'readTable', 'loadMnistDigit'],
  metrics: ['digitClassifierMetric', 'loadDigitClassifier', 'loadDigitClassifierFor', 'digitAccuracyMetric', 'digitInceptionScoreMetric', 'digitFrechetDistanceMetric'],
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
const site = join(dir, 'site');

/** The page: every package's browser entry and the smoke pipeline, exposed to the test as `runSmoke`. */
const PAGE_MAIN = `import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
${PACKAGES.map((p) => `import * as ${p} from '@diffusionlab/${p}';`).join('\n')}
import { smoke } from './browser-smoke.mjs';

window.runSmoke = async () => {
  await core.useBackend('cpu');
  return smoke({ tf, ${PACKAGES.join(', ')} });
};
document.body.dataset.ready = 'yes';
`;

/** The Chromium to drive: $CHROMIUM_PATH, else the first `chromium` / `chromium-browser` on PATH. */
function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const d of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser']) {
      try {
        accessSync(join(d, name), constants.X_OK);
        return join(d, name);
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' };

/** A static file server for `from` on 127.0.0.1 (a free port); it never serves outside `from`. */
async function serve(from: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const file = normalize(join(from, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!file.startsWith(from)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** One Node built-in reached from a bundle input, with the importer chain from the input down to it. */
interface Violation {
  builtin: string;
  chain: string[];
}

/** What the guard saw: every import edge (importer → resolved module) and every built-in import. */
interface ImportGraph {
  edges: Map<string, Set<string>>;
  builtins: { builtin: string; importer: string }[];
}

/**
 * A Vite plugin that records the import graph and every Node built-in import (keeping the built-in
 * external, so the build goes on and reports all of them).
 */
function builtinGuard(graph: ImportGraph): Plugin {
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
        graph.builtins.push({ builtin: source, importer });
        return { id: source, external: true };
      }
      if (resolved) {
        const to = graph.edges.get(importer) ?? new Set<string>();
        graph.edges.set(importer, to.add(resolved.id));
      }
      return resolved;
    },
  };
}

/** The built-ins reachable from `entry`, each with a shortest import chain from the entry (breadth-first). */
function reachableBuiltins(graph: ImportGraph, entry: string): Violation[] {
  const parent = new Map<string, string | null>([[entry, null]]);
  for (let queue = [entry]; queue.length > 0; ) {
    const next: string[] = [];
    for (const id of queue) {
      for (const to of graph.edges.get(id) ?? []) {
        if (parent.has(to)) continue;
        parent.set(to, id);
        next.push(to);
      }
    }
    queue = next;
  }
  return graph.builtins
    .filter((b) => parent.has(b.importer))
    .map((b) => {
      const chain: string[] = [];
      for (let id: string | null | undefined = b.importer; id; id = parent.get(id)) chain.unshift(relative(root, id));
      return { builtin: b.builtin, chain };
    });
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
  // The page that runs the smoke pipeline in Chromium.
  copyFileSync(join(root, 'scripts/browser-smoke.mjs'), join(dir, 'browser-smoke.mjs'));
  writeFileSync(join(dir, 'main.js'), PAGE_MAIN);
  input.page = join(dir, 'index.html');
  writeFileSync(input.page, '<!doctype html><html><head><meta charset="utf-8"><title>smoke</title></head><body><script type="module" src="./main.js"></script></body></html>\n');

  const graph: ImportGraph = { edges: new Map(), builtins: [] };
  const out = await build({
    configFile: false,
    root: dir,
    logLevel: 'silent',
    base: './',
    build: { outDir: site, emptyOutDir: true, minify: false, rolldownOptions: { input, preserveEntrySignatures: 'strict' } },
    plugins: [builtinGuard(graph)],
  });
  const outputs = Array.isArray(out) ? out : [out];
  for (const o of outputs) {
    if (!('output' in o)) continue;
    for (const chunk of o.output) if (chunk.type === 'chunk' && chunk.isEntry && chunk.name) exportsOf.set(chunk.name, chunk.exports);
  }
  for (const name of Object.keys(input)) violations.set(name, reachableBuiltins(graph, input[name]));
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

const executablePath = findChromium();
const skipBrowser = executablePath === undefined && process.env.DIFFUSIONLAB_SKIP_BROWSER === '1';
let browser: Browser | undefined;
let server: Server | undefined;
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

type SmokeResult = Awaited<ReturnType<typeof smoke>>;

describe.skipIf(skipBrowser)('the browser bundles run in Chromium', () => {
  it('run the same pipeline as Node, with the same numbers, offline and without errors', async () => {
    if (executablePath === undefined) {
      throw new Error(
        'No Chromium found for the browser-bundle test. Install it (Debian/Ubuntu: `apt-get install -y chromium`), ' +
          'or point CHROMIUM_PATH at a Chromium/Chrome binary, or set DIFFUSIONLAB_SKIP_BROWSER=1 to skip this test.',
      );
    }
    // Node: the packages' Node entries (from source), the same tfjs-core instance they use.
    await core.useBackend('cpu');
    const tfPath = createRequire(join(root, 'packages/core/package.json')).resolve('@tensorflow/tfjs-core');
    const tf = await import(pathToFileURL(tfPath).href);
    const inNode = await smoke({ tf, core, schedules, samplers, datasets, denoisers, metrics, kernels, reporters });

    let origin: string;
    ({ server, origin } = await serve(site));
    browser = await chromium.launch({ executablePath, headless: true });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`)) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    await page.goto(`${origin}/index.html`);
    await page.waitForSelector('body[data-ready="yes"]', { state: 'attached' });
    const inPage = (await page.evaluate(() => (globalThis as unknown as { runSmoke(): Promise<unknown> }).runSmoke())) as SmokeResult;

    // The wasm kernel compiles in the page (inlined base64, no .wasm file to fetch).
    expect(inPage.simd).toBe(true);
    // Oracle DDPM samples are the mixture: W1 to a fresh draw of 1000 points stays near its noise floor.
    expect(inPage.w1).toBeLessThan(0.15);
    // Same code, same seeds, same cpu backend: the page reproduces Node's numbers.
    expect(Math.abs(inPage.w1 - inNode.w1)).toBeLessThanOrEqual(1e-6);
    for (let i = 0; i < inNode.samplesHead.length; i++) expect(Math.abs(inPage.samplesHead[i] - inNode.samplesHead[i]), `sample ${i}`).toBeLessThanOrEqual(1e-5);
    for (let i = 0; i < inNode.fusedHead.length; i++) expect(Math.abs(inPage.fusedHead[i] - inNode.fusedHead[i]), `fused sample ${i}`).toBeLessThanOrEqual(1e-5);
    // The fused wasm DDPM loop agrees with tfjs's loop in both places (float32 rounding only).
    expect(inNode.fusedVsTfjs).toBeLessThan(1e-4);
    expect(inPage.fusedVsTfjs).toBeLessThan(1e-4);
    expect(inPage.histogramBars).toBe(80);
    expect(inPage.gradientsRegistered).toBe(true);
    expect(inPage.fileRows).toEqual({ total: 5, train: 4, heldOut: 1 });
    expect(inPage.fileHeader).toEqual(['x', 'y']);
    expect(inPage.fileTrain).toEqual(inNode.fileTrain);
    // The browser's plugin lists are Node's minus the Node-only plugins.
    expect(inPage.datasetPlugins).toEqual(inNode.datasetPlugins.filter((n) => n !== 'file' && n !== 'digits'));
    const nodeOnlyMetrics = ['digit-classifier', 'digit-accuracy', 'digit-inception-score', 'digit-frechet-distance'];
    expect(inPage.metricPlugins).toEqual(inNode.metricPlugins.filter((n) => !nodeOnlyMetrics.includes(n)));
    expect(inNode.tensorsLeaked).toBe(0);
    expect(inPage.tensorsLeaked).toBe(0);
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
  });
});
