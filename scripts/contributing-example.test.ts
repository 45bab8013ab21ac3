// The sampler and metric plugins and their tests shown in CONTRIBUTING.md are run here, so the documented way to
// write a plugin cannot drift from the real API: both code blocks are extracted, written next to
// each other, and the example tests (testkit's sampler and metric conformance suites) run inside this file.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const doc = readFileSync(join(root, 'CONTRIBUTING.md'), 'utf8');
const blocks = [...doc.matchAll(/```ts\n(\/\/ src\/(\S+)\n[\s\S]*?)```/g)].map((m) => ({ file: m[2], code: m[1] }));

// tfjs is not hoisted to the repo root; resolve the copy the workspace packages use.
const tfjs = createRequire(join(root, 'packages/testkit/package.json')).resolve('@tensorflow/tfjs-core');
const dir = join(root, 'node_modules/.cache/contributing-example');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
for (const b of blocks) writeFileSync(join(dir, b.file), b.code.replaceAll("'@tensorflow/tfjs-core'", JSON.stringify(tfjs)));

it('CONTRIBUTING.md has the plugins (the sampler under 40 lines) and their tests', () => {
  expect(blocks.map((b) => b.file).sort()).toEqual(['ddim-lite.test.ts', 'ddim-lite.ts', 'mean-gap.test.ts', 'mean-gap.ts']);
  const plugin = blocks.find((b) => b.file === 'ddim-lite.ts')!;
  expect(plugin.code.trimEnd().split('\n').length).toBeLessThan(40);
});

// Registers the examples' describe/it blocks (samplerConformance, metricConformance) in this file.
await import(join(dir, 'ddim-lite.test.ts'));
await import(join(dir, 'mean-gap.test.ts'));
