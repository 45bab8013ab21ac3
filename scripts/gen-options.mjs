#!/usr/bin/env node
// `pnpm docs:options`: writes each plugin package's options tables (from the built packages' zod
// schemas) between the `<!-- options:start -->` / `<!-- options:end -->` markers of its README.
// `--check`: writes nothing; exits 1 listing the READMEs that are stale (CI and
// scripts/options-docs.test.ts enforce the same thing from sources).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PLUGIN_PACKAGES, renderOptions, spliceReadme } from './options-docs.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const dist = (dir) => `${root}packages/${dir}/dist/index.js`;

for (const dir of ['core', ...PLUGIN_PACKAGES]) {
  if (!existsSync(dist(dir))) {
    console.error(`docs:options: ${dist(dir)} is missing; run \`pnpm build\` first`);
    process.exit(1);
  }
}
const { z } = await import(pathToFileURL(dist('core')).href);
const stale = [];
for (const dir of PLUGIN_PACKAGES) {
  const { plugins } = await import(pathToFileURL(dist(dir)).href);
  const pkg = JSON.parse(readFileSync(`${root}packages/${dir}/package.json`, 'utf8'));
  const file = `${root}packages/${dir}/README.md`;
  const before = existsSync(file) ? readFileSync(file, 'utf8') : `# ${pkg.name}\n\n${pkg.description}\n`;
  const after = spliceReadme(before, renderOptions(z, plugins, pkg.name));
  if (after === before) continue;
  stale.push(`packages/${dir}/README.md`);
  if (!check) writeFileSync(file, after);
}
if (check && stale.length) {
  console.error(`docs:options: stale options tables in ${stale.join(', ')}; run \`pnpm build && pnpm docs:options\``);
  process.exit(1);
}
console.log(stale.length ? `docs:options: updated ${stale.join(', ')}` : 'docs:options: all READMEs up to date');
