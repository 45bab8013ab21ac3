/**
 * Makes sure tfjs's gradient functions are registered before training. tfjs-core keeps them out of
 * its main bundle; in Node we load a one-file bundle of them built with the package (see
 * scripts/bundle-gradients.mjs), and in bundlers the original module.
 */
import * as tf from '@tensorflow/tfjs-core';

let pending: Promise<void> | null = null;

/** Registers every tfjs-core gradient once; cheap to call before each training run. */
export function registerTfjsGradients(): Promise<void> {
  if (tf.getGradient('BatchMatMul') !== undefined) return Promise.resolve();
  pending ??= (async () => {
    // Variable specifiers keep tsc from resolving these optional, untyped modules.
    const bundled = './vendor/tfjs-gradients.js';
    const original = '@tensorflow/tfjs-core/dist/register_all_gradients.js';
    try {
      await import(/* @vite-ignore */ bundled);
    } catch {
      await import(/* @vite-ignore */ original);
    }
    if (tf.getGradient('BatchMatMul') === undefined) {
      throw new Error('tfjs gradients could not be registered; import "@tensorflow/tfjs" or rebuild @diffusionlab/core');
    }
  })();
  return pending;
}
