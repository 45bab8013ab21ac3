/**
 * Run-directory file helpers. Every file is written atomically (temp file + rename), and the
 * checkpoint directory is swapped in whole, so a run killed at any moment leaves the last complete
 * checkpoint loadable.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifactsToFiles, type CheckpointFiles, filesToArtifacts, type ModelArtifacts, WEIGHTS_FILE } from '@diffusionlab/core';

/** Writes a file via a temp file in the same folder and a rename (atomic on POSIX). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Writes JSON atomically, pretty-printed. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Extra metadata stored beside the tfjs files so `sample` knows how the model was trained. */
export const CHECKPOINT_META = 'diffusionlab.json';

/**
 * Saves a checkpoint folder (`model.json`, `weights.bin`, `diffusionlab.json`) atomically: it is
 * built in a temp folder and renamed over the old one.
 */
export function saveCheckpoint(dir: string, artifacts: ModelArtifacts, meta: Record<string, unknown>): void {
  const files = artifactsToFiles(artifacts);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'model.json'), files.modelJson);
  writeFileSync(join(tmp, WEIGHTS_FILE), files.weightsBin);
  writeFileSync(join(tmp, CHECKPOINT_META), `${JSON.stringify(meta, null, 2)}\n`);
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

/** Loads a checkpoint folder written by {@link saveCheckpoint}. */
export function loadCheckpoint(dir: string): { artifacts: ModelArtifacts; meta: Record<string, unknown> } {
  const files: CheckpointFiles = {
    modelJson: readFileSync(join(dir, 'model.json'), 'utf8'),
    weightsBin: new Uint8Array(readFileSync(join(dir, WEIGHTS_FILE))),
  };
  const meta = JSON.parse(readFileSync(join(dir, CHECKPOINT_META), 'utf8'));
  return { artifacts: filesToArtifacts(files), meta };
}
