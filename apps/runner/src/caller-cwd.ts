/**
 * The folder the user typed the command in. Run through a package script (`pnpm diffusionlab …`,
 * `pnpm -C ~/diffusionlab diffusionlab …`, or a user's own `"dl": "diffusionlab …"` script), the
 * process starts in the package's folder, not the user's, so `validate x.yaml` would look for x.yaml
 * in the wrong place. pnpm and npm record the user's folder in INIT_CWD; the CLI works from there.
 */
import { statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

/**
 * INIT_CWD when this process is the package script pnpm/npm started (its folder is the script
 * package's and the script names this CLI), else `cwd`. An INIT_CWD inherited by an unrelated
 * process — a test runner's child, a script that changed folder first — is ignored.
 */
export function callerCwd(env: NodeJS.ProcessEnv, cwd: string, binPath: string): string {
  const init = env.INIT_CWD;
  const pkg = env.npm_package_json;
  const script = env.npm_lifecycle_script;
  if (!init || !pkg || !script) return cwd;
  if (resolve(dirname(pkg)) !== resolve(cwd)) return cwd;
  if (!/\bdiffusionlab\b/.test(script) && !script.includes(relative(cwd, binPath))) return cwd;
  try {
    if (!statSync(init).isDirectory()) return cwd;
  } catch {
    return cwd;
  }
  return resolve(init);
}
