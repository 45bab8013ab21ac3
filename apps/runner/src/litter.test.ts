import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTempName, removeStaleTemps } from './litter.js';

const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;
const folder = (dir: string, name: string, content: string) => {
  mkdirSync(join(dir, name));
  writeFileSync(join(dir, name, 'meta'), content);
};

describe('temp files of dead processes', () => {
  it('are recognised by name', () => {
    expect(parseTempName('checkpoint.tmp-123')).toEqual({ base: 'checkpoint', kind: 'tmp', pid: 123 });
    expect(parseTempName('checkpoint.old-9')).toEqual({ base: 'checkpoint', kind: 'old', pid: 9 });
    expect(parseTempName('summary.json.77.tmp')).toEqual({ base: 'summary.json', kind: 'tmp', pid: 77 });
    expect(parseTempName('samples.npy')).toBeNull();
    expect(parseTempName('notes.tmp')).toBeNull();
  });

  it('are removed, while a live process keeps its own and ordinary files stay', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-litter-'));
    const dead = deadPid();
    folder(dir, 'checkpoint', 'current');
    folder(dir, `checkpoint.tmp-${dead}`, 'half-written');
    folder(dir, `checkpoint.old-${dead}`, 'previous');
    writeFileSync(join(dir, `env.json.tmp-${dead}`), '{');
    writeFileSync(join(dir, `report.html.${dead}.tmp`), '<');
    writeFileSync(join(dir, `config.yaml.tmp-${process.pid}`), 'mine');
    writeFileSync(join(dir, 'notes.md'), 'user file');
    expect(removeStaleTemps(dir).sort()).toEqual([`checkpoint.old-${dead}`, `checkpoint.tmp-${dead}`, `env.json.tmp-${dead}`, `report.html.${dead}.tmp`]);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint', `config.yaml.tmp-${process.pid}`, 'notes.md']);
    expect(readFileSync(join(dir, 'checkpoint', 'meta'), 'utf8')).toBe('current');
    // A failing run removes its own.
    expect(removeStaleTemps(dir, true)).toEqual([`config.yaml.tmp-${process.pid}`]);
  });

  it('finish a checkpoint swap that a kill interrupted, so the last checkpoint is never lost', () => {
    // Killed between the two renames: the new folder is complete (the old one was moved aside after it was written).
    const a = mkdtempSync(join(tmpdir(), 'dl-swap-'));
    const dead = deadPid();
    folder(a, `checkpoint.tmp-${dead}`, 'new');
    folder(a, `checkpoint.old-${dead}`, 'previous');
    removeStaleTemps(a);
    expect(readdirSync(a)).toEqual(['checkpoint']);
    expect(readFileSync(join(a, 'checkpoint', 'meta'), 'utf8')).toBe('new');
    // Only the previous one aside: it is put back.
    const b = mkdtempSync(join(tmpdir(), 'dl-swap-'));
    folder(b, `checkpoint.old-${dead}`, 'previous');
    removeStaleTemps(b);
    expect(readFileSync(join(b, 'checkpoint', 'meta'), 'utf8')).toBe('previous');
    // A first checkpoint that was still being written: there is none yet.
    const c = mkdtempSync(join(tmpdir(), 'dl-swap-'));
    folder(c, `checkpoint.tmp-${dead}`, 'maybe half');
    removeStaleTemps(c);
    expect(readdirSync(c)).toEqual([]);
  });
});
