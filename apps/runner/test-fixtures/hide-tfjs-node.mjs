/**
 * Test-only Node loader: makes `@tensorflow/tfjs-node` unresolvable, as on a machine (CI) where it
 * is not installed, so the `backend: auto` path without it is tested on every machine.
 * Usage: node --import ./test-fixtures/hide-tfjs-node.mjs --import ./test-fixtures/ts-hooks.mjs src/bin.ts …
 */
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier === '@tensorflow/tfjs-node' || specifier.startsWith('@tensorflow/tfjs-node/')) {
    const e = new Error("Cannot find package '@tensorflow/tfjs-node' imported from " + context.parentURL + ' (hidden by test-fixtures/hide-tfjs-node.mjs)');
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}
`;

register(`data:text/javascript,${encodeURIComponent(hooks)}`);
