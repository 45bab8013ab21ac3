/**
 * Typed TypeScript configs: `experiment.config.ts` exporting `defineExperiment({...})` as default,
 * so editors autocomplete plugin slots and check option types. The file is compiled with ts-node
 * (transpile only: types are the editor's job, the runner's validation is the schema's) to CommonJS
 * and evaluated synchronously, so it slots into the same `readConfigFile` path as YAML and JSON —
 * `extends:` chains can mix the three.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '@diffusionlab/core';
import { isConfigError } from '@diffusionlab/core';
import { defineExperiment } from './define.js';

type Json = Record<string, unknown>;

/** True for config files that {@link loadTsConfig} reads (`.ts`, `.mts`, `.cts`). */
export function isTsConfigFile(file: string): boolean {
  return /\.[cm]?ts$/i.test(file) && !/\.d\.[cm]?ts$/i.test(file);
}

type Compiler = { compile(code: string, fileName: string): string };
let compiler: Compiler | undefined;

/** ts-node's compiler, created once (it is a devDependency of the workspace; users install it). */
function getCompiler(file: string): Compiler {
  if (compiler) return compiler;
  let tsNode: { create(opts: object): Compiler };
  try {
    // Resolved from the config's folder first (the user's project), then from the runner.
    const fromConfig = createRequire(file);
    try {
      tsNode = fromConfig('ts-node');
    } catch {
      tsNode = createRequire(import.meta.url)('ts-node');
    }
  } catch {
    throw new ConfigError({ path: '', message: `${file} is a TypeScript config, which needs ts-node; install it with \`pnpm add -D ts-node typescript\` or use YAML/JSON` });
  }
  compiler = tsNode.create({
    transpileOnly: true,
    skipProject: true,
    compilerOptions: { module: 'commonjs', moduleResolution: 'node', target: 'es2022', esModuleInterop: true, sourceMap: false, inlineSourceMap: false },
  });
  return compiler;
}

/** Module ids a TS config may import the runner by; they get {@link defineExperiment} without loading tfjs. */
const RUNNER_IDS = new Set(['diffusionlab', '@diffusionlab/runner']);

/** Compiles and evaluates one TS file as CommonJS; relative `.ts` imports are compiled the same way. */
function evaluateTs(file: string, stack: string[]): Json {
  if (stack.includes(file)) throw new ConfigError({ path: '', message: `import cycle: ${[...stack, file].join(' → ')}` });
  const text = readFileSync(file, 'utf8');
  let js: string;
  try {
    js = getCompiler(file).compile(text, file);
  } catch (e) {
    throw new ConfigError({ path: '', message: `${file} is not valid TypeScript: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}` });
  }
  const mod = new Module(file) as Module & { _compile(code: string, filename: string): void; paths: string[] };
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(file));
  const baseRequire = Module.prototype.require;
  mod.require = function requireFromConfig(this: Module, id: string) {
    if (RUNNER_IDS.has(id)) return { defineExperiment };
    if (id.startsWith('.')) {
      const base = resolve(dirname(file), id);
      const candidate = [base, base.replace(/\.[cm]?js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')].find((p) => isTsConfigFile(p) && existsSync(p));
      if (candidate) return evaluateTs(candidate, [...stack, file]);
    }
    return baseRequire.call(this, id);
  } as typeof mod.require;
  try {
    mod._compile(js, file);
  } catch (e) {
    if (isConfigError(e)) throw e;
    throw new ConfigError({ path: '', message: `${file} failed to evaluate: ${(e as Error).message.split('\n')[0]}` });
  }
  return mod.exports as Json;
}

/**
 * Loads a TypeScript config: compiles it, evaluates it with `require` rooted at its own folder, and
 * returns its default export — an object, or a function returning one. `import { defineExperiment }
 * from 'diffusionlab'` is served directly (it is an identity function that exists for the types).
 */
export function loadTsConfig(file: string): Json {
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') throw new ConfigError({ path: '', message: `config file ${file} is empty` });
  const exported = evaluateTs(file, []);
  let value: unknown = exported && typeof exported === 'object' && 'default' in exported ? exported.default : undefined;
  if (typeof value === 'function') value = (value as () => unknown)();
  const isPromise = typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isPromise) {
    const got = isPromise ? 'a promise (async configs are not supported)' : value === undefined ? 'no default export' : Array.isArray(value) ? 'a list' : typeof value;
    throw new ConfigError({ path: '', message: `${file} must \`export default defineExperiment({ … })\`, got ${got}` });
  }
  // A plain copy: the schema and `extends` merging expect data, not class instances or getters.
  return structuredClone(value) as Json;
}
