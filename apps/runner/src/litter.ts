/**
 * Temp files and folders a run leaves when it dies mid-write: `checkpoint.tmp-PID` (a checkpoint
 * being built), `checkpoint.old-PID` (the one it replaces), `file.tmp-PID` (runner atomic writes)
 * and `file.PID.tmp` (reporters'). A failing run removes its own; the next start in the directory
 * removes those of processes that are gone, first finishing a checkpoint swap a kill interrupted.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const TEMP_NAME = /^(.+)\.(tmp|old)-(\d+)$|^(.+)\.(\d+)\.tmp$/;

/** True while process `pid` exists (signal 0 probes without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A temp entry's base name, kind and owning process, or null for an ordinary name. */
export function parseTempName(name: string): { base: string; kind: 'tmp' | 'old'; pid: number } | null {
  const m = TEMP_NAME.exec(name);
  if (!m) return null;
  if (m[1] !== undefined) return { base: m[1], kind: m[2] as 'tmp' | 'old', pid: Number(m[3]) };
  return { base: m[4], kind: 'tmp', pid: Number(m[5]) };
}

/**
 * Removes the temp entries in `dir` whose process is gone (and this process's own when `own`), and
 * returns their names. Where a kill fell between the two renames of a checkpoint swap, so that
 * `base` is missing, the complete new folder (`.tmp`, complete once `.old` exists) or else the
 * previous one (`.old`) is put back as `base` first, so the last checkpoint is never lost.
 */
export function removeStaleTemps(dir: string, own = false): string[] {
  if (!existsSync(dir)) return [];
  const entries = readdirSync(dir);
  const stale = entries
    .map((name) => ({ name, t: parseTempName(name) }))
    .filter((e): e is { name: string; t: NonNullable<ReturnType<typeof parseTempName>> } => e.t !== null)
    .filter(({ t }) => (t.pid === process.pid ? own : !processAlive(t.pid)));
  const removed: string[] = [];
  for (const { t } of stale) {
    if (existsSync(join(dir, t.base))) continue;
    const tmp = `${t.base}.tmp-${t.pid}`;
    const old = `${t.base}.old-${t.pid}`;
    const keep = entries.includes(old) && entries.includes(tmp) ? tmp : entries.includes(old) ? old : null;
    if (keep) renameSync(join(dir, keep), join(dir, t.base));
  }
  for (const { name } of stale) {
    if (!existsSync(join(dir, name))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
