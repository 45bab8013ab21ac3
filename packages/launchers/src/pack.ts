/**
 * A trial's output folder as plain data (relative path → base64), so results and checkpoints travel
 * through the queue between machines that share no filesystem (checkpoints here are 17–350 KB).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Every file under `dir`, by path relative to it (with `/`), as base64. */
export function packDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p).split(sep).join('/')] = readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

/** Writes packed files under `dir`; a path that would land outside it is refused (results are data, never trusted paths). */
export function unpackDir(dir: string, files: Readonly<Record<string, string>>): void {
  const root = resolve(dir);
  for (const [rel, b64] of Object.entries(files)) {
    const target = resolve(root, rel);
    if (!target.startsWith(`${root}${sep}`)) throw new Error(`a packed trial names a file outside its folder: ${rel}`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, Buffer.from(b64, 'base64'));
  }
}
