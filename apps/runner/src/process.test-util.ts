/** Helpers for the tests that drive the CLI as real processes. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI, as users run it (CI builds before testing). */
export const BIN = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'dist', 'bin.js');

/** Polls `check` every 20 ms until it holds; throws naming `what` after `ms`. Why: a process's files appear on its own schedule. */
export async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
