/**
 * Every trainable denoiser's checkpoint loads in a plain web page with `tf.loadLayersModel`: the page
 * holds only tfjs (core, layers, the cpu backend) and this package, bundled by Vite. In Node the test
 * trains a tiny model of each denoiser for a few Adam steps, saves `model.json` + `weights.bin` the
 * way the runner does, and serves them with the page from a static server on 127.0.0.1. In headless
 * Chromium the page loads each checkpoint — first without `registerDenoiserLayers()` (seed-mlp must
 * load, mlp and unet must fail on their custom layer: the README's claim), then with it — and its
 * prediction must match Node's `predict` to float32 tolerance. No request may leave 127.0.0.1, and
 * the page must log no error. Needs Chromium: `CHROMIUM_PATH`, else `chromium` / `chromium-browser`
 * on PATH; without one the test fails and says how to install it, unless DIFFUSIONLAB_SKIP_BROWSER=1.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { artifactsToFiles, type DenoiserModel, instantiate } from '@diffusionlab/core';
import { denoiserContext, denoiserInputs, predictValues, weightValues } from '@diffusionlab/testkit';
import * as tf from '@tensorflow/tfjs-core';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plugins } from './index.js';

/** The Chromium to drive: $CHROMIUM_PATH, else the first `chromium` / `chromium-browser` on PATH. */
function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser']) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}

const pkg = fileURLToPath(new URL('..', import.meta.url));
const repo = join(pkg, '../..');
/** Under this package's node_modules, so the page resolves tfjs exactly as this package does (one copy). */
const work = join(pkg, 'node_modules/.cache/checkpoint-page');
const T = 50;
const N = 6;

/** Tiny models, at least one per trainable denoiser (keyed by a case name): plugin, options and the data shape it is built for. */
const CASES: Record<string, { plugin: string; options: Record<string, unknown>; shape: number[]; needsRegistration: boolean }> = {
  'seed-mlp': { plugin: 'seed-mlp', options: { hidden: 8 }, shape: [1], needsRegistration: false },
  // inputEmbedding > 0 puts both custom layers (time embedding, Fourier features) into the graph.
  mlp: { plugin: 'mlp', options: { width: 8, depth: 2, timeEmbedding: 6, inputEmbedding: 3 }, shape: [2], needsRegistration: true },
  unet: { plugin: 'unet', options: { channels: 2, channelMultipliers: [1, 2], timeEmbedding: 4 }, shape: [4, 4, 1], needsRegistration: true },
  // GroupNorm and multi-head attention put the unet's two optional custom layers into the graph.
  'unet-norm-attention': {
    plugin: 'unet',
    options: { channels: 4, channelMultipliers: [1, 2], timeEmbedding: 4, norm: 'group', groups: 2, attention: true, attentionHeads: 2 },
    shape: [4, 4, 1],
    needsRegistration: true,
  },
};

/**
 * The page: the few lines a user writes (README, "Loading a checkpoint in a browser"), exposed as one
 * function the test calls. `register` is false for the first pass, which checks which checkpoints
 * need the registration.
 */
const PAGE_MAIN = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { registerDenoiserLayers } from '@diffusionlab/denoisers';

window.predictCheckpoint = async ({ url, x, xShape, t, register }) => {
  await tf.setBackend('cpu');
  if (register) registerDenoiserLayers();
  try {
    const model = await loadLayersModel(url);
    const out = model.predict([tf.tensor(x, xShape), tf.tensor2d(t, [t.length, 1])]);
    const values = Array.from(await out.data());
    const shape = out.shape;
    tf.dispose(out);
    model.dispose();
    return { values, shape };
  } catch (e) {
    return { error: String(e && e.message || e) };
  }
};
document.body.dataset.ready = 'yes';
`;

interface NodeSide {
  name: string;
  shape: number[];
  x: number[];
  t: number[];
  expected: Float32Array;
  needsRegistration: boolean;
}

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.bin': 'application/octet-stream' };

/** A static file server for `root` on 127.0.0.1 (a free port); it never serves outside `root`. */
async function serve(root: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    const file = path.endsWith(sep) ? join(path, 'index.html') : path;
    if (!file.startsWith(root)) {
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

/** Trains `model` for a few Adam steps on ε-prediction, so the checkpoint holds weights no initialiser made. */
function trainBriefly(model: DenoiserModel, shape: number[]): void {
  const optimizer = tf.train.adam(1e-2);
  const n = 8;
  for (let step = 0; step < 5; step++) {
    const { x, t } = denoiserInputs(shape, n, T, 100 + step);
    tf.tidy(() => {
      const x0 = tf.tensor(x, [n, ...shape]);
      const eps = tf.randomNormal([n, ...shape], 0, 1, 'float32', step);
      const xt = tf.add(tf.mul(x0, 0.8), tf.mul(eps, 0.6));
      optimizer.minimize(() => tf.losses.meanSquaredError(eps, model.predict(xt, tf.tensor1d(t))) as tf.Scalar, false, [...model.variables]);
    });
  }
  optimizer.dispose();
}

const executablePath = findChromium();
const skip = executablePath === undefined && process.env.DIFFUSIONLAB_SKIP_BROWSER === '1';
let browser: Browser | undefined;
let server: Server | undefined;
let origin = '';
const nodeSide: NodeSide[] = [];

beforeAll(async () => {
  if (skip) return;
  await tf.setBackend('cpu');
  rmSync(work, { recursive: true, force: true });
  const site = join(work, 'site');
  mkdirSync(join(work, 'src'), { recursive: true });
  writeFileSync(
    join(work, 'src/index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>checkpoint</title></head><body><script type="module" src="./main.js"></script></body></html>\n',
  );
  writeFileSync(join(work, 'src/main.js'), PAGE_MAIN);
  // The workspace packages from source, as vitest.config.ts does, so no build step is needed.
  const alias = ['core', 'denoisers'].map((p) => ({ find: new RegExp(`^@diffusionlab/${p}$`), replacement: join(repo, 'packages', p, 'src/index.ts') }));
  await build({
    configFile: false,
    root: join(work, 'src'),
    base: './',
    logLevel: 'silent',
    resolve: { alias },
    build: { outDir: site, emptyOutDir: true, minify: false },
  });

  const before = tf.memory().numTensors;
  for (const plugin of plugins) {
    if (!instantiate(plugin, {}).trainable) continue;
    if (!Object.values(CASES).some((c) => c.plugin === plugin.name)) throw new Error(`no tiny case for the trainable denoiser '${plugin.name}': add one to CASES`);
  }
  for (const [name, c] of Object.entries(CASES)) {
    const plugin = plugins.find((p) => p.name === c.plugin);
    if (plugin === undefined) throw new Error(`CASES.${name} names no plugin '${c.plugin}'`);
    const denoiser = instantiate(plugin, c.options);
    const ctx = denoiserContext(c.shape, 1, 'epsilon', T);
    const model = await denoiser.build(ctx);
    const initial = weightValues(model);
    trainBriefly(model, c.shape);
    expect(weightValues(model), `${name}: training changed no weight`).not.toEqual(initial);
    const files = artifactsToFiles(await model.save());
    mkdirSync(join(site, 'checkpoints', name), { recursive: true });
    writeFileSync(join(site, 'checkpoints', name, 'model.json'), files.modelJson);
    writeFileSync(join(site, 'checkpoints', name, 'weights.bin'), files.weightsBin);
    const { x, t } = denoiserInputs(c.shape, N, T, 11);
    nodeSide.push({
      name,
      shape: c.shape,
      x: Array.from(x),
      t: Array.from(t),
      expected: predictValues(model, c.shape, x, t).values,
      needsRegistration: c.needsRegistration,
    });
    model.dispose();
  }
  expect(tf.memory().numTensors).toBe(before);
  ({ server, origin } = await serve(site));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

describe.skipIf(skip)('denoiser checkpoints in a plain page (Chromium, tf.loadLayersModel)', () => {
  it('loads every trainable denoiser’s checkpoint and predicts what Node predicts, offline', async () => {
    if (executablePath === undefined) {
      throw new Error(
        'No Chromium found for the checkpoint browser test. Install it (Debian/Ubuntu: `apt-get install -y chromium`), ' +
          'or point CHROMIUM_PATH at a Chromium/Chrome binary, or set DIFFUSIONLAB_SKIP_BROWSER=1 to skip this test.',
      );
    }
    expect(nodeSide.map((s) => s.name).sort()).toEqual(Object.keys(CASES).sort());
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

    type Result = { values?: number[]; shape?: number[]; error?: string };
    const call = (s: NodeSide, register: boolean) =>
      page.evaluate((a) => (globalThis as unknown as { predictCheckpoint(a: object): Promise<Result> }).predictCheckpoint(a), {
        url: `${origin}/checkpoints/${s.name}/model.json`,
        x: s.x,
        xShape: [s.t.length, ...s.shape],
        t: s.t,
        register,
      });

    // Without registerDenoiserLayers(): only checkpoints of built-in layers load (seed-mlp runs first:
    // registration is global and cannot be undone, so the unregistered pass goes before any register).
    for (const s of nodeSide) {
      const r = await call(s, false);
      if (s.needsRegistration)
        expect(r.error, `${s.name} loaded without registerDenoiserLayers()`).toMatch(/Unknown layer: DiffusionLab(TimeEmbedding|FourierFeatures|GroupNorm|PixelAttention)/);
      else expect(r.error, `${s.name} should load without registration`).toBeUndefined();
    }
    for (const s of nodeSide) {
      const r = await call(s, true);
      expect(r.error, s.name).toBeUndefined();
      expect(r.shape, s.name).toEqual([s.t.length, ...s.shape]);
      const got = Float32Array.from(r.values ?? []);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < s.expected.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[i] - s.expected[i]));
        maxAbs = Math.max(maxAbs, Math.abs(s.expected[i]));
      }
      // float32 tolerance: the layers graph and our raw-op forward pass round differently.
      expect(maxDiff, `${s.name}: browser vs Node, max |Δ| over ${s.expected.length} values (max |value| ${maxAbs})`).toBeLessThanOrEqual(2e-5 * Math.max(1, maxAbs));
      expect(got.length).toBe(s.expected.length);
    }
    // The page console may hold the expected "Unknown layer" failures from the first pass only as
    // returned errors, never as logged ones.
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
  });
});
