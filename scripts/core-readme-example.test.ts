// The "Train and sample from code" example in packages/core/README.md runs for real here: the block is
// extracted as it stands, imported (workspace packages from source through vitest's aliases), and its
// printed result is checked — it trains, samples, and the samples fit the data (W1 ≈ 0.11, well
// under 0.3, on the two-Gaussian example). A renamed export or a changed signature fails here, not for a reader.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'packages/core/README.md'), 'utf8');
const section = readme.split('## Train and sample from code')[1] ?? '';
const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? '';

it('core README trains and samples from code', async () => {
  expect(code).toContain('train(');
  expect(code).toContain('generateSamples(');
  const dir = join(root, 'node_modules/.cache/core-readme-example');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'example.ts');
  writeFileSync(file, `${code}\nexport {};\n`);
  // The example's `useBackend('wasm')` would import the backend package from core's folder, where
  // this repository does not install it (only the runner depends on it); register it from there first,
  // as a user's own install would make it resolvable.
  await import(createRequire(join(root, 'apps/runner/package.json')).resolve('@tensorflow/tfjs-backend-wasm'));
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(' '));
  const start = performance.now();
  try {
    await import(file);
  } finally {
    console.log = log;
  }
  const seconds = (performance.now() - start) / 1000;
  const last = lines.at(-1) ?? '';
  const w1 = Number(/W1 = ([\d.]+)/.exec(last)?.[1]);
  log(`core README example: ${lines.join(' | ')} (${seconds.toFixed(1)} s in all)`);
  expect(lines.filter((l) => l.startsWith('epoch '))).toHaveLength(2);
  expect(w1).toBeLessThan(0.3);
});
