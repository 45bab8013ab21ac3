/**
 * Backend selection: `tensorflow` (@tensorflow/tfjs-node, optional, loaded by dynamic import),
 * `wasm` (embedded, the fast default) and `cpu` (pure JS, the numerical reference). On wasm it also
 * installs the kernels package's matMul gradient, so every model trained on tfjs ops there (not
 * only the fused plain MLPs) gets the faster backward pass.
 */
import { BackendError, type BackendName, registerTfjsGradients, useBackend } from '@diffusionlab/core';
import { installMatMulGradientFix, uninstallMatMulGradientFix } from '@diffusionlab/kernels';

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
 * overwrite the fix later. Returns whether the fix is installed.
 */
export async function configureMatMulGradient(backend: string): Promise<boolean> {
  await registerTfjsGradients();
  if (backend === 'wasm') {
    installMatMulGradientFix();
    return true;
  }
  uninstallMatMulGradientFix();
  return false;
}

const TFJS_NODE_HINT =
  'Install it with `pnpm add @tensorflow/tfjs-node@4.22.0` (its install step downloads libtensorflow; ' +
  'behind a firewall see the README section "tfjs-node without internet"), or use backend: wasm.';

async function tryTensorflow(): Promise<string | null> {
  try {
    // A variable specifier keeps bundlers and tsc from requiring the optional package.
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/**
 * Activates a backend. `auto` takes tfjs-node when it loads, else wasm — or cpu when the model
 * needs gradients of convolutions, which tfjs-backend-wasm 4.22 lacks.
 */
export async function setupBackend(requested: string, needs: { convGradients?: boolean } = {}): Promise<BackendInfo> {
  let name = requested;
  let reason = 'requested';
  if (requested === 'auto') {
    const tfErr = await tryTensorflow();
    if (tfErr === null) {
      name = 'tensorflow';
      reason = 'auto: @tensorflow/tfjs-node is installed';
    } else if (needs.convGradients) {
      name = 'cpu';
      reason = 'auto: the model trains convolutions, which the wasm backend cannot differentiate in tfjs 4.22; tfjs-node is not installed';
    } else {
      name = 'wasm';
      reason = 'auto: @tensorflow/tfjs-node is not installed; wasm is the fastest embedded backend';
    }
  }
  if (name === 'tensorflow') {
    const err = await tryTensorflow();
    if (err !== null) throw new BackendError(`backend "tensorflow" is not available: @tensorflow/tfjs-node did not load (${err}).`, { hint: TFJS_NODE_HINT });
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    if (needs.convGradients && requested === 'wasm') {
      throw new BackendError('backend "wasm" cannot train this model: tfjs-backend-wasm 4.22 has no gradients for convolutions.', {
        hint: 'Use backend: cpu (or auto), or backend: tensorflow with @tensorflow/tfjs-node installed.',
      });
    }
  } else if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
  } else {
    throw new BackendError(`unknown backend "${name}"`, { hint: 'Use one of: auto, wasm, cpu, tensorflow.' });
  }
  // The packages above are the runner's own dependencies (imported here, so they resolve from the
  // runner); core's useBackend activates the registered backend, as it does for library users.
  await useBackend(name as BackendName);
  const matMulGradientFix = await configureMatMulGradient(name);
  return { requested, name, reason, matMulGradientFix };
}
