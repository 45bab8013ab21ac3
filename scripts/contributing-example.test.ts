// The sampler plugin and its test shown in CONTRIBUTING.md are run here, so the documented way to
// write a plugin cannot drift from the real API: both code blocks are extracted, written next to
// each other, and the example test (testkit's sampler conformance suite) runs inside this file.
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

it('CONTRIBUTING.md has the plugin (under 40 lines) and its test', () => {
  expect(blocks.map((b) => b.file).sort()).toEqual(['ddim-lite.test.ts', 'ddim-lite.ts']);
  const plugin = blocks.find((b) => b.file === 'ddim-lite.ts')!;
  expect(plugin.code.trimEnd().split('\n').length).toBeLessThan(40);
});

// Registers the example's describe/it blocks (samplerConformance) in this file.
await import(join(dir, 'ddim-lite.test.ts'));
