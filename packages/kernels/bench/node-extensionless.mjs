// Node ESM resolver hook: tfjs-core 4.22's ESM files import siblings without extensions
// ('./gradients/Abs_grad', '../gradients'), which Node rejects; this retries such specifiers with
// '.js' or '/index.js'.
// Needed only to import '@tensorflow/tfjs-core/dist/register_all_gradients.js' (the gradients
// the plain tfjs comparison trains with) outside a bundler. Use: node --import ./bench/node-extensionless.mjs …
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (!/^\\.\\.?\\//.test(specifier) || specifier.endsWith('.js')) throw e;
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'ERR_UNSUPPORTED_DIR_IMPORT') throw e;
    try {
      return await next(specifier + '.js', context);
    } catch {
      return next(specifier + '/index.js', context);
    }
  }
}`),
);
