/**
 * Backend selection: `tensorflow` (@tensorflow/tfjs-node, optional, loaded by dynamic import),
 * `wasm` (embedded, the fast default), `cpu` (pure JS, the numerical reference) and `auto`, which
 * picks per model (auto-backend.ts). On wasm it also
 * installs the kernels package's matMul gradient, so every model trained on tfjs ops there (not
 * only the fused plain MLPs) gets the faster backward pass.
 */
import { BackendError, type BackendName, registerTfjsGradients, useBackend } from '@diffusionlab/core';
import { installMatMulGradientFix, installResizeNearestGradientFix, uninstallMatMulGradientFix } from '@diffusionlab/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { chooseAutoBackend, type FusedProbe } from './auto-backend.js';

/** What the run records about the backend it got. */
export interface BackendInfo {
  requested: string;
  name: string;
  /** Why `auto` chose what it chose. */
  reason: string;
  /** True when the wasm matMul gradient (explicit transposes, no transposed matMuls) is installed. */
  matMulGradientFix?: boolean;
}

/**
 * Gives BatchMatMul the gradient that suits the backend: on wasm, tfjs-backend-wasm 4.22 runs
 * transposed matMuls several times slower than an explicit transpose plus a plain matMul, so the
 * kernels package's equivalent gradient (same math; faster steps, most for wide layers and large
 * batches — see `pnpm bench`, seed-train and mlp-train-256) replaces tfjs's;
 * elsewhere tfjs's own gradient is restored. tfjs's gradients are registered first, or they would
 * overwrite the fix later. Returns whether the fix is installed. On cpu it also replaces
 * ResizeNearestNeighbor's gradient, which tfjs-backend-cpu 4.22 computes from the wrong batch rows
 * (every U-Net trained there with batch > 1 got a wrong decoder gradient; resize-nearest-gradient.ts).
 */
export async function configureMatMulGradient(backend: string): Promise<boolean> {
  await registerTfjsGradients();
  const restoreResize = installResizeNearestGradientFix();
  if (backend !== 'cpu') restoreResize();
  if (backend === 'wasm') {
    installMatMulGradientFix();
    return true;
  }
  uninstallMatMulGradientFix();
  return false;
}

const TFJS_NODE_HINT =
  'Install it with `pnpm add @tensorflow/tfjs-node@4.22.0` (its install step downloads libtensorflow; ' +
  'behind a firewall build it from a TensorFlow wheel: docs/tfjs-node-from-wheel.md), or use backend: wasm.';

/**
 * Imports a backend package with tfjs's warnings off: tfjs-node brings its own copy of tfjs (with
 * the cpu backend), so whichever of the two loads second re-registers every cpu kernel and prints a
 * line for each (about 170), though both are the same version. Only the `PROD` flag is touched, which
 * in tfjs 4.22 gates nothing but those warnings, and it is restored at once.
 */
async function importQuietly(specifier: string): Promise<void> {
  const env = tf.env();
  const prod = env.getBool('PROD');
  env.set('PROD', true);
  try {
    await import(specifier);
  } finally {
    env.set('PROD', prod);
  }
}

/** Loads tfjs-node; null when it loads, else its error's first line. */
async function tryTensorflow(): Promise<string | null> {
  try {
    // A variable specifier keeps bundlers and tsc from requiring the optional package.
    const name = '@tensorflow/tfjs-node';
    await importQuietly(name);
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/** What `auto` may ask about the run's model before choosing (see auto-backend.ts). */
export interface SetupBackendOptions {
  /**
   * Whether a fused training path takes the run's model: asked only for `auto` when tfjs-node loads,
   * with the tensorflow backend active (so a throwaway model can be built); it must leave no tensors.
   * Absent: nothing fused is on offer, and tfjs-node is taken when it loads.
   */
  probeFused?: () => Promise<FusedProbe>;
}

/**
 * Activates a backend. `auto` follows {@link chooseAutoBackend}: wasm when tfjs-node is not
 * installed or when a fused path trains the model, else tfjs-node.
 */
export async function setupBackend(requested: string, opts: SetupBackendOptions = {}): Promise<BackendInfo> {
  let name = requested;
  let reason = 'requested';
  if (requested === 'auto') {
    const tfErr = await tryTensorflow();
    let fused: FusedProbe | undefined;
    if (tfErr === null && opts.probeFused) {
      await useBackend('tensorflow');
      fused = await opts.probeFused();
    }
    ({ name, reason } = chooseAutoBackend(tfErr, fused));
  }
  if (name === 'tensorflow') {
    const err = await tryTensorflow();
    if (err !== null) throw new BackendError(`backend "tensorflow" is not available: @tensorflow/tfjs-node did not load (${err}).`, { hint: TFJS_NODE_HINT });
  } else if (name === 'wasm') {
    await importQuietly('@tensorflow/tfjs-backend-wasm');
  } else if (name === 'cpu') {
    await importQuietly('@tensorflow/tfjs-backend-cpu');
  } else {
    throw new BackendError(`unknown backend "${name}"`, { hint: 'Use one of: auto, wasm, cpu, tensorflow.' });
  }
  // The packages above are the runner's own dependencies (imported here, so they resolve from the
  // runner); core's useBackend activates the registered backend, as it does for library users.
  await useBackend(name as BackendName);
  const matMulGradientFix = await configureMatMulGradient(name);
  return { requested, name, reason, matMulGradientFix };
}
