/**
 * A *packed run*: a run folder as one JSON file in the launchers' trial pack format (relative path →
 * base64, `packDir`/`unpackDir` of @diffusionlab/launchers). The playground downloads a model it
 * trained this way, since a web page cannot write a folder; `diffusionlab sample <file>.json` unpacks
 * it into a folder beside the file and samples that folder like any run directory. Only data is read:
 * paths that would land outside the folder are refused, and nothing is executed.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { DiffusionLabError } from '@diffusionlab/core';
import { unpackDir } from '@diffusionlab/launchers';

/** The files a packed run must hold: what `diffusionlab sample` reads from a run folder. */
export const PACKED_RUN_FILES = ['config.yaml', 'checkpoint/model.json', 'checkpoint/weights.bin', 'checkpoint/diffusionlab.json'] as const;

const HINT = 'pass a run directory written by `diffusionlab run`, or a packed run (NAME-run.json) downloaded from the playground’s “Download checkpoint”';

/** The folder a packed run unpacks into: the file's name without `.json`, beside it. */
export function packedRunFolder(file: string): string {
  const ext = extname(file);
  return join(dirname(file), ext.toLowerCase() === '.json' ? basename(file, ext) : `${basename(file)}.unpacked`);
}

/** Reads and checks a packed run's entries; a file that is not one is a clear error naming it and what is wrong. */
export function readPackedRun(file: string): Record<string, string> {
  const notPacked = (why: string) => new DiffusionLabError(`${file} is neither a run directory nor a packed run: ${why}`, { code: 'NOT_A_RUN', hint: HINT });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw notPacked(`it is not JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw notPacked('it is not a JSON object of file path → base64 contents');
  const entries = raw as Record<string, unknown>;
  const bad = Object.entries(entries).find(([, v]) => typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v));
  if (bad) throw notPacked(`entry "${bad[0]}" is not base64 text`);
  const missing = PACKED_RUN_FILES.filter((f) => !(f in entries));
  if (missing.length > 0) throw notPacked(`it lacks ${missing.join(', ')}`);
  return entries as Record<string, string>;
}

/** True when `dir` holds exactly the packed files' bytes for every packed path (an earlier unpack of the same file). */
function holdsSameFiles(dir: string, entries: Readonly<Record<string, string>>): boolean {
  return Object.entries(entries).every(([rel, b64]) => {
    const p = join(dir, rel);
    return existsSync(p) && statSync(p).isFile() && readFileSync(p).equals(Buffer.from(b64, 'base64'));
  });
}

/**
 * Unpacks the packed run `file` (resolved against `cwd`) into {@link packedRunFolder} and returns that
 * folder. An earlier unpack of the same file is reused (so sampling it again adds a sample folder
 * beside the first); a folder there with other contents is never overwritten: the error says to move
 * it or rename the file. A failed unpack leaves no partial folder.
 */
export function unpackRunFile(file: string, cwd: string, print: (line: string) => void): string {
  const path = resolve(cwd, file);
  const entries = readPackedRun(path);
  const dir = packedRunFolder(path);
  if (existsSync(dir)) {
    if (statSync(dir).isDirectory() && holdsSameFiles(dir, entries)) {
      print(`Using ${dir} (unpacked from ${file} before)`);
      return dir;
    }
    throw new DiffusionLabError(`${dir} already exists and does not hold the files of ${file}; unpacking would overwrite it`, {
      code: 'NOT_A_RUN',
      hint: `move or remove ${dir}, or rename ${file} so that it unpacks into a new folder`,
    });
  }
  try {
    unpackDir(dir, entries);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new DiffusionLabError(`cannot unpack ${file}: ${(e as Error).message}`, { code: 'NOT_A_RUN', hint: HINT });
  }
  print(`Unpacked ${file} into ${dir} (${Object.keys(entries).length} files)`);
  return dir;
}
