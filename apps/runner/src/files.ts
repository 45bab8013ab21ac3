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
import { onFile } from './io-errors.js';
import { recordOutput } from './run-dir.js';

/**
 * Writes a file via a temp file in the same folder and a rename (atomic on POSIX); the output
 * directory's manifest lists it first. A failure (a full disk) removes the temp file and names `path`
 * in a {@link FileSystemError}.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  recordOutput(path);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    onFile(path, 'write', () => {
      writeFileSync(tmp, data);
      renameSync(tmp, path);
    });
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes JSON atomically, pretty-printed. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Extra metadata stored beside the tfjs files so `sample` knows how the model was trained. */
export const CHECKPOINT_META = 'diffusionlab.json';
/** The run's autoguidance guide: the checkpoint saved at `training.guideSnapshotStep` (same files as `checkpoint/`). */
export const GUIDE_CHECKPOINT = 'guide-checkpoint';

/**
 * Saves a checkpoint folder (`model.json`, `weights.bin`, `diffusionlab.json`) atomically: it is
 * built in a temp folder and renamed over the old one. A failure (a full disk) removes the temp
 * folder, keeps the previous checkpoint and names the file in a {@link FileSystemError}.
 */
export function saveCheckpoint(dir: string, artifacts: ModelArtifacts, meta: Record<string, unknown>, extra: Record<string, string | Uint8Array> = {}): void {
  const files = artifactsToFiles(artifacts);
  recordOutput(dir);
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    onFile(tmp, 'create', () => mkdirSync(tmp, { recursive: true }));
    const write = (name: string, data: string | Uint8Array) => onFile(join(dir, name), 'write', () => writeFileSync(join(tmp, name), data));
    write('model.json', files.modelJson);
    write(WEIGHTS_FILE, files.weightsBin);
    write(CHECKPOINT_META, `${JSON.stringify(meta, null, 2)}\n`);
    for (const [name, data] of Object.entries(extra)) write(name, data);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  onFile(dir, 'replace', () => {
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(tmp, dir);
  });
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

/**
 * Serialises a training state: JSON for scalars and tensor specs, one float32 buffer for the values.
 * The loss history is left out — the runner appends it to its per-epoch log as training goes, so a
 * checkpoint costs the same at epoch 10 and at epoch 10,000.
 */
export function encodeTrainState(state: TrainState): Record<string, string | Uint8Array> {
  const groups = { weights: state.weights, optimizer: state.optimizer, ema: state.ema ?? [] };
  const total = Object.values(groups).reduce((s, g) => s + g.reduce((a, t) => a + t.data.length, 0), 0);
  const buf = new Float32Array(total);
  const specs: TensorSpec[] = [];
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
    hasEma: state.ema !== undefined,
    adamBetaPowers: state.adamBetaPowers,
    tensors: specs,
  };
  return { [TRAIN_STATE_JSON]: JSON.stringify(json), [TRAIN_STATE_BIN]: new Uint8Array(buf.buffer) };
}

interface TensorSpec {
  group: string;
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** A damaged training state: one message naming the file and what is wrong, with the way out. */
function badState(file: string, what: string): DiffusionLabError {
  return new DiffusionLabError(`${file} is not a valid training state: ${what}`, {
    code: 'CHECKPOINT_INVALID',
    hint: 'The checkpoint is damaged or was edited; start the run again with --force instead of --resume.',
  });
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Reads the training state of a checkpoint folder, or null when it has none. Every field is checked
 * (integer step and epoch, rng states, tensor specs inside the value buffer), so a damaged file is a
 * clear refusal rather than a silent misstart. `lossHistory` is what the file holds (checkpoints of
 * earlier versions kept it there), else empty: the runner rebuilds it from its per-epoch log.
 */
export function loadTrainState(dir: string): TrainState | null {
  const jp = join(dir, TRAIN_STATE_JSON);
  if (!existsSync(jp)) return null;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(jp, 'utf8'));
  } catch (e) {
    throw badState(jp, `not JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badState(jp, 'not a JSON object');
  const bp = join(dir, TRAIN_STATE_BIN);
  if (!existsSync(bp)) throw badState(jp, `its values file ${TRAIN_STATE_BIN} is missing`);
  const bytes = readFileSync(bp);
  if (bytes.byteLength % 4 !== 0) throw badState(bp, `${bytes.byteLength} bytes is not a whole number of float32 values`);
  const buf = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (!isCount(json.step) || !isCount(json.epoch))
    throw badState(jp, `step (${JSON.stringify(json.step)}) and epoch (${JSON.stringify(json.epoch)}) must be non-negative integers`);
  const rng = json.rng as { shuffle?: unknown; noise?: unknown } | undefined;
  // Rng.getState(): four 32-bit words and a spare normal (NaN, written as null, when there is none).
  const rngOk = (a: unknown) => Array.isArray(a) && a.length === 5 && a.slice(0, 4).every((x) => Number.isInteger(x)) && (a[4] === null || typeof a[4] === 'number');
  if (!rng || !rngOk(rng.shuffle) || !rngOk(rng.noise)) throw badState(jp, 'rng must hold the shuffle and noise generator states');
  if (json.lastFiniteLoss !== null && typeof json.lastFiniteLoss !== 'number') throw badState(jp, 'lastFiniteLoss must be a number or null');
  if (!Array.isArray(json.tensors)) throw badState(jp, 'tensors must be a list');
  const specs = json.tensors as TensorSpec[];
  for (const [i, t] of specs.entries()) {
    const where = `tensors[${i}]`;
    if (typeof t !== 'object' || t === null || typeof t.name !== 'string' || !['weights', 'optimizer', 'ema'].includes(t.group))
      throw badState(jp, `${where} needs a name and a group`);
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) throw badState(jp, `${where} (${t.name}) has shape ${JSON.stringify(t.shape)}; expected non-negative integers`);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (!isCount(t.offset) || t.length !== size || t.offset + size > buf.length) {
      throw badState(
        jp,
        `${where} (${t.name}) claims ${JSON.stringify(t.length)} values at offset ${JSON.stringify(t.offset)} for shape [${t.shape}]; ${TRAIN_STATE_BIN} holds ${buf.length}`,
      );
    }
  }
  const powers = json.adamBetaPowers;
  if (powers !== undefined && !(Array.isArray(powers) && powers.length === 2 && powers.every((x) => typeof x === 'number')))
    throw badState(jp, 'adamBetaPowers must be two numbers');
  const pick = (group: string): NamedArray[] =>
    specs.filter((t) => t.group === group).map((t) => ({ name: t.name, shape: t.shape, data: buf.slice(t.offset, t.offset + t.length) }));
  return {
    epoch: json.epoch,
    step: json.step,
    rng: rng as TrainState['rng'],
    lastFiniteLoss: json.lastFiniteLoss as number | null,
    lossHistory: Array.isArray(json.lossHistory) ? (json.lossHistory as TrainState['lossHistory']) : [],
    weights: pick('weights'),
    optimizer: pick('optimizer'),
    ema: json.hasEma ? pick('ema') : undefined,
    ...(powers ? { adamBetaPowers: powers as [number, number] } : {}),
  };
}
