/**
 * Ownership of output directories (run, sample and sweep folders): a manifest of everything
 * diffusionlab wrote there, so `--force` removes exactly that and refuses a folder holding anything
 * else; and a lock file (PID and host), so only one process writes a directory at a time.
 *
 * Both live in a `.diffusionlab/` folder inside the output directory. Every writer in the runner
 * (files.ts) and every reporter (through `PluginContext.recordOutput`) announces a path before
 * writing it; {@link recordOutput} adds its top-level entry to the manifest of the open directory
 * that holds it.
 */
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConfigError } from '@diffusionlab/core';

/** diffusionlab's own bookkeeping folder inside an output directory (manifest and lock). */
export const META_DIR = '.diffusionlab';
/** The manifest: the top-level entries diffusionlab wrote, as JSON `{ format, version, entries }`. */
export const MANIFEST_FILE = 'manifest.json';
/** The lock: JSON `{ pid, host, startedAt, command }` of the process writing the directory. */
export const LOCK_FILE = 'lock';

/**
 * What `--force` may remove from a directory written before manifests existed: only the names the
 * runner itself writes (reporter figures and logs are not among them, so such a folder is refused
 * and left for the user to delete by hand).
 */
export const LEGACY_NAMES: readonly string[] = [
  'config.yaml',
  'env.json',
  'summary.json',
  'FAILED',
  'metrics.jsonl',
  'checkpoint',
  'samples.npy',
  'reference.npy',
  'sweep.json',
  'sweep.csv',
  'sweep.png',
];

/** Temp names the atomic writers leave behind when killed: `x.tmp-PID`, `x.old-PID` (runner), `x.PID.tmp` (reporters). */
const TEMP_NAME = /^(.+?)(?:\.(?:tmp|old)-\d+|\.\d+\.tmp)$/;

interface OpenDir {
  dir: string;
  entries: Set<string>;
  lockPath: string;
}

/** Directories this process holds the lock of, by absolute path. */
const openDirs = new Map<string, OpenDir>();
let exitHookInstalled = false;

/** The manifest's entries, or null when the directory has none (written before manifests existed, or not ours). */
export function readManifest(dir: string): Set<string> | null {
  const p = join(dir, META_DIR, MANIFEST_FILE);
  if (!existsSync(p)) return null;
  try {
    const m = JSON.parse(readFileSync(p, 'utf8')) as { format?: unknown; entries?: unknown };
    if (m.format !== 'diffusionlab-manifest' || !Array.isArray(m.entries)) return null;
    return new Set(m.entries.filter((e): e is string => typeof e === 'string' && e !== '' && !e.includes('/') && !e.includes(sep) && e !== '..' && e !== '.'));
  } catch {
    return null;
  }
}

function writeManifest(d: OpenDir): void {
  const p = join(d.dir, META_DIR, MANIFEST_FILE);
  const tmp = `${p}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify({ format: 'diffusionlab-manifest', version: 1, entries: [...d.entries].sort() }, null, 2)}\n`);
  renameSync(tmp, p);
}

/**
 * Records that `path` is about to be written: its top-level entry joins the manifest of the open
 * directory (the innermost one) that holds it. Paths outside every open directory are ignored.
 */
export function recordOutput(path: string): void {
  const abs = resolve(path);
  let owner: OpenDir | undefined;
  for (const d of openDirs.values()) {
    const rel = relative(d.dir, abs);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) continue;
    if (!owner || d.dir.length > owner.dir.length) owner = d;
  }
  if (!owner) return;
  const top = relative(owner.dir, abs).split(sep)[0];
  if (top === META_DIR || owner.entries.has(top)) return;
  owner.entries.add(top);
  writeManifest(owner);
}

const isDir = (p: string): boolean => lstatSync(p).isDirectory();

/**
 * The first entry under `dir` (a path relative to `dir`) that diffusionlab did not write, or null
 * when everything there is its own. An entry is its own when the manifest lists it (or it is a temp
 * file of a listed name); without a manifest, when it is one of {@link LEGACY_NAMES}. A directory
 * that is not listed is its own only when it holds nothing but output directories with their own
 * manifests (a run's `samples/` folder); a listed directory with its own manifest is judged by it.
 */
export function firstForeignEntry(dir: string): string | null {
  const manifest = readManifest(dir);
  const known = manifest ?? new Set(LEGACY_NAMES);
  for (const name of readdirSync(dir).sort()) {
    if (name === META_DIR) continue;
    const p = join(dir, name);
    const listed = known.has(name) || known.has(name.match(TEMP_NAME)?.[1] ?? '');
    if (listed) {
      if (isDir(p) && readManifest(p) !== null) {
        const inner = firstForeignEntry(p);
        if (inner !== null) return join(name, inner);
      }
      continue;
    }
    if (!isDir(p)) return name;
    const children = readdirSync(p).sort();
    // A folder of the user's (no output directory inside) is named as a whole.
    if (!children.some((c) => isDir(join(p, c)) && readManifest(join(p, c)) !== null)) return name;
    for (const c of children) {
      const cp = join(p, c);
      if (!isDir(cp) || readManifest(cp) === null) return join(name, c);
      const inner = firstForeignEntry(cp);
      if (inner !== null) return join(name, c, inner);
    }
  }
  return null;
}

/** Deletes a file, a symlink (never its target) or a directory tree, looking at each entry with lstat. */
export function removeTree(path: string): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const c of readdirSync(path)) removeTree(join(path, c));
    rmdirSync(path);
  } else unlinkSync(path);
}

/**
 * Empties a directory for `--force`: checks first that everything in it is diffusionlab's own
 * (refusing, with nothing deleted, and naming the first foreign entry otherwise), then removes it
 * all except the `.diffusionlab/` folder.
 */
export function removeOwnEntries(dir: string): void {
  const foreign = firstForeignEntry(dir);
  if (foreign !== null) {
    const legacy = readManifest(dir) === null;
    throw new ConfigError(
      {
        path: '--force',
        message:
          `${dir} holds ${JSON.stringify(foreign)}, which diffusionlab did not write, so --force will not delete the folder's contents; ` +
          (legacy
            ? `the folder has no ${META_DIR}/${MANIFEST_FILE} (written by diffusionlab before it kept one, or not by diffusionlab), so only the runner's own files are recognised (${LEGACY_NAMES.join(', ')})`
            : `only the entries listed in ${META_DIR}/${MANIFEST_FILE} are removed`),
      },
      { hint: `move ${join(dir, foreign)} elsewhere, delete the folder yourself if you are sure, or choose another --out` },
    );
  }
  for (const name of readdirSync(dir)) if (name !== META_DIR) removeTree(join(dir, name));
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt?: string;
  command?: string;
}

function readLock(path: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return Number.isInteger(v.pid) && typeof v.host === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** True when process `pid` exists on this machine (EPERM: it exists but belongs to another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock of `dir` atomically (the lock file is created with `wx`, which fails when it
 * exists). A live holder is refused with its PID; a holder on this host whose process is gone is
 * taken over with a printed message.
 */
export function takeLock(dir: string, print: (line: string) => void): string {
  const lockPath = join(dir, META_DIR, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: process.argv.slice(2).join(' ') };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const held = readLock(lockPath);
      const mine = held !== null && held.host === info.host && held.pid === process.pid;
      if (attempt === 0 && held !== null && held.host === info.host && !mine && !isAlive(held.pid)) {
        print(`Taking over the lock of ${dir}: diffusionlab process ${held.pid} on ${held.host} that held it is gone (it stopped without releasing it)`);
        rmSync(lockPath, { force: true });
        continue;
      }
      const who = held
        ? `diffusionlab process ${held.pid} on ${held.host}${held.startedAt ? ` (since ${held.startedAt})` : ''}`
        : 'another diffusionlab process (its lock file is unreadable)';
      throw new ConfigError(
        { path: '--out', message: `${dir} is in use by ${who}; one process at a time writes a run directory` },
        { hint: `wait for it to finish or stop it; if no such process is running, delete ${lockPath}` },
      );
    }
    try {
      writeSync(fd, `${JSON.stringify(info)}\n`);
    } finally {
      closeSync(fd);
    }
    return lockPath;
  }
}

function releaseLock(lockPath: string): void {
  const held = readLock(lockPath);
  if (held && held.pid === process.pid && held.host === hostname()) rmSync(lockPath, { force: true });
}

/** How {@link openOutputDir} treats a directory that already exists. */
export interface OpenOutputDirOptions {
  /** Replace what diffusionlab wrote there (never anything else). */
  force: boolean;
  /** Continue the directory's run: keep its files and its manifest. */
  resume?: boolean;
  /** True when the existing entries make it a directory `--out` must not reuse without `--force`. */
  holds: (entries: readonly string[]) => boolean;
  /** What the directory holds, for the refusal: "a run", "a sweep or run". */
  what: string;
  print: (line: string) => void;
}

/**
 * Creates or reuses an output directory and takes its lock: a directory that holds a run is refused
 * unless `force` (then only diffusionlab's own files are removed) or `resume`. Until
 * {@link closeOutputDir}, every recorded write inside it joins its manifest.
 */
export function openOutputDir(dir: string, o: OpenOutputDirOptions): string {
  const abs = resolve(dir);
  if (existsSync(abs) && !statSync(abs).isDirectory()) throw new ConfigError({ path: '--out', message: `${abs} is a file, not a directory` });
  const existed = existsSync(abs);
  const metaExisted = existsSync(join(abs, META_DIR));
  recordOutput(abs);
  mkdirSync(join(abs, META_DIR), { recursive: true });
  installExitHook();
  const lockPath = takeLock(abs, o.print);
  try {
    const previous = readManifest(abs);
    if (!o.resume) {
      const entries = readdirSync(abs).filter((e) => e !== META_DIR);
      if (o.holds(entries)) {
        if (!o.force) throw new ConfigError({ path: '--out', message: `${abs} already holds ${o.what}; choose another --out or pass --force to replace it` });
        removeOwnEntries(abs);
      }
    }
    // Entries from before that are still there stay listed (resume, or a folder reused after a failed start).
    const kept = [...(previous ?? (o.resume ? new Set(LEGACY_NAMES) : new Set<string>()))].filter((e) => existsSync(join(abs, e)));
    const d: OpenDir = { dir: abs, entries: new Set(kept), lockPath };
    writeManifest(d);
    openDirs.set(abs, d);
    return abs;
  } catch (e) {
    releaseLock(lockPath);
    // A folder this call created, or the `.diffusionlab/` it added to an existing folder, goes away again.
    if (!existed) removeTree(abs);
    else if (!metaExisted) removeTree(join(abs, META_DIR));
    throw e;
  }
}

/** Releases the lock of an output directory opened by {@link openOutputDir}; safe to call twice or after the folder was removed. */
export function closeOutputDir(dir: string): void {
  const d = openDirs.get(resolve(dir));
  if (!d) return;
  openDirs.delete(d.dir);
  releaseLock(d.lockPath);
}

/** Releases every lock this process holds when it exits (a signal handler's exit included). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const d of openDirs.values()) releaseLock(d.lockPath);
  });
}
