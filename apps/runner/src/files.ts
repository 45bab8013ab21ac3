/**
 * Run-directory file helpers. Every file is written atomically (temp file + rename), and the
 * checkpoint directory is swapped in whole, so a run killed at any moment leaves the last complete
 * checkpoint loadable.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  artifactsToFiles,
  type CheckpointFiles,
  DiffusionLabError,
  filesToArtifacts,
  type ModelArtifacts,
  type NamedArray,
  type TrainState,
  WEIGHTS_FILE,
} from '@diffusionlab/core';

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
export function saveCheckpoint(
  dir: string,
  artifacts: ModelArtifacts,
  meta: Record<string, unknown>,
  extra: Record<string, string | Uint8Array> = {},
): void {
  const files = artifactsToFiles(artifacts);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'model.json'), files.modelJson);
  writeFileSync(join(tmp, WEIGHTS_FILE), files.weightsBin);
  writeFileSync(join(tmp, CHECKPOINT_META), `${JSON.stringify(meta, null, 2)}\n`);
  for (const [name, data] of Object.entries(extra)) writeFileSync(join(tmp, name), data);
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

/** File names of the resumable training state inside a checkpoint folder. */
export const TRAIN_STATE_JSON = 'train-state.json';
export const TRAIN_STATE_BIN = 'train-state.bin';

/** Serialises a training state: JSON for scalars and tensor specs, one float32 buffer for the values. */
export function encodeTrainState(state: TrainState): Record<string, string | Uint8Array> {
  const groups = { weights: state.weights, optimizer: state.optimizer, ema: state.ema ?? [] };
  const total = Object.values(groups).reduce((s, g) => s + g.reduce((a, t) => a + t.data.length, 0), 0);
  const buf = new Float32Array(total);
  const specs: { group: string; name: string; shape: number[]; offset: number; length: number }[] = [];
  let off = 0;
  for (const [group, list] of Object.entries(groups)) {
    for (const t of list) {
      buf.set(t.data, off);
      specs.push({ group, name: t.name, shape: t.shape, offset: off, length: t.data.length });
      off += t.data.length;
    }
  }
  const json = {
    epoch: state.epoch,
    step: state.step,
    rng: state.rng,
    lastFiniteLoss: state.lastFiniteLoss,
    lossHistory: state.lossHistory,
    hasEma: state.ema !== undefined,
    adamBetaPowers: state.adamBetaPowers,
    tensors: specs,
  };
  return { [TRAIN_STATE_JSON]: JSON.stringify(json), [TRAIN_STATE_BIN]: new Uint8Array(buf.buffer) };
}

/** Reads the training state of a checkpoint folder, or null when it has none. */
export function loadTrainState(dir: string): TrainState | null {
  const jp = join(dir, TRAIN_STATE_JSON);
  if (!existsSync(jp)) return null;
  // biome-ignore lint/suspicious/noExplicitAny: the fields are read as before; h3 validates them against the config.
  let json: any;
  try {
    json = JSON.parse(readFileSync(jp, 'utf8'));
  } catch (e) {
    throw new DiffusionLabError(`${jp} is corrupt (${(e as Error).message}); the checkpoint cannot be resumed`, { hint: 'start the run again without --resume (with --force to replace the directory)' });
  }
  const bytes = readFileSync(join(dir, TRAIN_STATE_BIN));
  const buf = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const pick = (group: string): NamedArray[] =>
    (json.tensors as { group: string; name: string; shape: number[]; offset: number; length: number }[])
      .filter((t) => t.group === group)
      .map((t) => ({ name: t.name, shape: t.shape, data: buf.slice(t.offset, t.offset + t.length) }));
  return {
    epoch: json.epoch,
    step: json.step,
    rng: json.rng,
    lastFiniteLoss: json.lastFiniteLoss,
    lossHistory: json.lossHistory,
    weights: pick('weights'),
    optimizer: pick('optimizer'),
    ema: json.hasEma ? pick('ema') : undefined,
    ...(json.adamBetaPowers ? { adamBetaPowers: json.adamBetaPowers as [number, number] } : {}),
  };
}
