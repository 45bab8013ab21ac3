/**
 * One line to get a working tfjs backend when diffusionlab is used as a library:
 * `await useBackend('wasm')`. tfjs-core ships no backend, so the first op otherwise dies with
 * "No backend found in registry". Backends are optional peer dependencies: the package is loaded by
 * dynamic import only when asked for, and a missing one is a BackendError naming what to install.
 * Browser-safe: no Node built-ins; in a bundle, import the backend package yourself (bundlers do
 * not follow variable imports) and `useBackend` just activates it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './errors.js';

/** The tfjs backends diffusionlab knows how to load, by the name tfjs registers them under. */
export type BackendName = 'cpu' | 'wasm' | 'webgl' | 'webgpu' | 'tensorflow';

/** The package that registers each backend; why: install hints and the dynamic import name the same package. */
export const BACKEND_PACKAGES: Readonly<Record<BackendName, string>> = {
  cpu: '@tensorflow/tfjs-backend-cpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  webgl: '@tensorflow/tfjs-backend-webgl',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** Backend-specific settings that must be applied before the backend first initialises. */
export interface UseBackendOptions {
  /** wasm: where the `.wasm` binaries are served from (tfjs's `setWasmPaths`); needed in browser bundles only. */
  wasmPaths?: string | Record<string, string>;
  /** wasm: number of threads for the threaded build (tfjs's `setThreadsCount`), where the page allows threads. */
  threads?: number;
}

function isBackendName(name: string): name is BackendName {
  return Object.hasOwn(BACKEND_PACKAGES, name);
}

function installHint(name: BackendName): string {
  const pkg = `${BACKEND_PACKAGES[name]}@${tf.version_core}`;
  const extra = name === 'tensorflow' ? ' (its install step downloads libtensorflow for your platform)' : '';
  return `Install it beside @tensorflow/tfjs-core, at the same version: npm install ${pkg}${extra}.`;
}

function notInstalled(error: unknown, pkg: string): boolean {
  const e = error as { code?: string; message?: string };
  const message = String(e?.message ?? error);
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (package|module)|Failed to resolve module/i.test(message)) && message.includes(pkg);
}

/**
 * Registers a backend's factory with tfjs, importing its package when nothing has registered it yet;
 * returns the loaded module (or null when it was already registered). Throws a BackendError that
 * names the package to install when it is missing.
 */
export async function loadBackend(name: BackendName): Promise<Record<string, unknown> | null> {
  if (!isBackendName(name)) {
    throw new BackendError(`unknown backend ${JSON.stringify(name)}`, { hint: `Use one of: ${Object.keys(BACKEND_PACKAGES).join(', ')}.` });
  }
  if (tf.findBackendFactory(name)) return null;
  const pkg = BACKEND_PACKAGES[name];
  try {
    // A variable specifier: tsc and bundlers must not require an optional peer that is not installed.
    const specifier: string = pkg;
    return (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
  } catch (cause) {
    if (notInstalled(cause, pkg)) {
      throw new BackendError(`backend "${name}" needs ${pkg}, which is not installed.`, { hint: installHint(name), cause });
    }
    const first = String((cause as Error)?.message ?? cause).split('\n')[0];
    throw new BackendError(`backend "${name}": ${pkg} is installed but did not load (${first}).`, {
      hint: name === 'tensorflow' ? 'Reinstall it for this platform and Node version, or use the wasm backend.' : installHint(name),
      cause,
    });
  }
}

/**
 * Loads (if needed) and activates a tfjs backend, then waits until it is ready; why: library users
 * need one call, and a clear message instead of tfjs's "No backend found in registry". Returns the
 * active backend's name.
 */
export async function useBackend(name: BackendName, options: UseBackendOptions = {}): Promise<BackendName> {
  const mod = await loadBackend(name);
  if (name === 'wasm' && (options.wasmPaths !== undefined || options.threads !== undefined)) {
    const wasm = (mod ?? (await import(/* @vite-ignore */ BACKEND_PACKAGES.wasm as string))) as {
      setWasmPaths?: (p: string | Record<string, string>) => void;
      setThreadsCount?: (n: number) => void;
    };
    if (options.wasmPaths !== undefined) wasm.setWasmPaths?.(options.wasmPaths);
    if (options.threads !== undefined) wasm.setThreadsCount?.(options.threads);
  }
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) {
    throw new BackendError(`backend "${name}" failed to initialise.`, { hint: name === 'cpu' ? 'See the tfjs console output above.' : 'Try the cpu backend.' });
  }
  // The cpu backend's first write prints an advert for tfjs-node; whoever chose cpu chose it.
  if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return name;
}
