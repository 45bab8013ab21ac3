/**
 * Test-only Node loader for forked CLI workers: runs the runner and workspace packages straight
 * from TypeScript source (like vitest's aliases do), so `--jobs` tests need no build step.
 * Usage: node --import ./test-fixtures/ts-hooks.mjs src/bin.ts …
 */
import { register } from 'node:module';

register('./ts-hooks-loader.mjs', import.meta.url);
