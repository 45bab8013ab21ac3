/** Resolve/load hooks for ts-hooks.mjs: @diffusionlab/<pkg> → packages/<pkg>/src/index.ts; .js → .ts; TS transpiled. */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('../../../', import.meta.url);
// esbuild (vitest's own transpiler, reached through vite) is much faster to start than typescript.
const fromVitest = createRequire(createRequire(import.meta.url).resolve('vitest/package.json'));
const esbuild = createRequire(fromVitest.resolve('vite/package.json'))('esbuild');

export async function resolve(specifier, context, next) {
  const m = /^@diffusionlab\/([\w-]+)$/.exec(specifier);
  if (m) {
    const src = new URL(`packages/${m[1]}/src/index.ts`, root);
    if (existsSync(src)) return { url: src.href, shortCircuit: true, format: 'module' };
  }
  if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const tsUrl = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(tsUrl))) return { url: tsUrl.href, shortCircuit: true, format: 'module' };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const source = readFileSync(fileURLToPath(url), 'utf8');
    const out = esbuild.transformSync(source, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: fileURLToPath(url) });
    return { format: 'module', source: out.code, shortCircuit: true };
  }
  return next(url, context);
}
