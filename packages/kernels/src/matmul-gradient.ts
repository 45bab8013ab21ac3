/**
 * A faster gradient for tfjs's BatchMatMul on the wasm backend. tfjs-backend-wasm 4.22 runs
 * matMul with transposeA/transposeB several times slower than an explicit transpose followed by
 * a plain matMul, and tfjs's own gradient uses the transposed forms. This registers the same
 * math — for C = A·B: ∂A = dC·Bᵀ, ∂B = Aᵀ·dC, and the variants for transposed inputs — with
 * explicit transposes of the last two axes, so every product is a plain matMul.
 *
 * Self-contained (it does not wrap tfjs's gradient), so it also works where tfjs's gradients are
 * not registered, e.g. plain Node ESM, where `@tensorflow/tfjs-core/dist/register_all_gradients.js`
 * cannot be imported.
 */
import * as tf from '@tensorflow/tfjs-core';

type GradConfig = NonNullable<ReturnType<typeof tf.getGradient>>;

/** Swaps the last two axes (a plain 2-D transpose for matrices). */
function T(x: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return tf.transpose(x);
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return tf.transpose(x, perm);
}

const mm = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.matMul(a, b);

/** The BatchMatMul gradient with only plain matMuls (same cases as tfjs's BatchMatMul_grad). */
export const matMulGradConfig: GradConfig = {
  kernelName: 'BatchMatMul',
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const g = dy as tf.Tensor;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return { a: () => mm(g, T(b)), b: () => mm(T(a), g) };
    if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(T(g), a) };
    if (transposeA && !transposeB) return { a: () => mm(b, T(g)), b: () => mm(a, g) };
    return { a: () => mm(T(b), T(g)), b: () => mm(T(g), T(a)) };
  },
};

let previous: GradConfig | undefined;
let installed = false;

/**
 * Registers {@link matMulGradConfig} for BatchMatMul (idempotent; process-wide, as tfjs's gradient
 * registry is). Install it after tfjs's own gradients are registered, or they overwrite it.
 * Returns a function that restores the gradient that was registered before.
 */
export function installMatMulGradientFix(): () => void {
  if (!installed) {
    previous = tf.getGradient('BatchMatMul');
    tf.registerGradient(matMulGradConfig);
    installed = true;
  }
  return uninstallMatMulGradientFix;
}

/**
 * Restores the previously registered BatchMatMul gradient. tfjs has no way to unregister, so when
 * none was registered before, the (mathematically identical) fix stays.
 */
export function uninstallMatMulGradientFix(): void {
  if (installed && previous) tf.registerGradient(previous);
  installed = false;
}

/** True while the fix is installed. */
export function matMulGradientFixInstalled(): boolean {
  return installed && tf.getGradient('BatchMatMul') === matMulGradConfig;
}
