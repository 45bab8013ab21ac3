/**
 * Checkpoints both ways, as plain data (no DOM, no tfjs), so the page, the worker and Node tests share
 * them:
 * - files dropped on the page (a CLI run's `checkpoint/` folder, its files one by one, the run's
 *   `config.yaml`, or a packed run) become the model's artifacts and the setup it needs, with a
 *   note for everything that is missing;
 * - a model trained in the page becomes one download, a *packed run*: the run folder
 *   `diffusionlab sample` reads (`config.yaml`, `checkpoint/model.json`, `checkpoint/weights.bin`,
 *   `checkpoint/diffusionlab.json`) in the launchers' trial pack format (`packDir` of
 *   @diffusionlab/launchers: a JSON object of relative path → base64 bytes), which
 *   `diffusionlab sample <file>.json` unpacks beside itself.
 */
import { artifactsToFiles, type ModelArtifacts } from '@diffusionlab/core';
import { parse } from 'yaml';
import { fromExperimentConfig, type Setup, type SlotChoice, toExperimentYaml } from './setup.js';

/** A file the user dropped: its path as the browser gives it (folder drops keep the folder names) and its bytes. */
export interface DroppedFile {
  path: string;
  bytes: Uint8Array;
}

/** The files of a run folder, by the names the runner writes. */
export const RUN_FILES = {
  config: 'config.yaml',
  model: 'checkpoint/model.json',
  weights: 'checkpoint/weights.bin',
  meta: 'checkpoint/diffusionlab.json',
} as const;

/** The checkpoint found among dropped files. */
export interface DroppedCheckpoint {
  /** model.json and its weights, as tfjs loads them. */
  artifacts: ModelArtifacts;
  /** checkpoint/diffusionlab.json: how the model was trained (dataset, schedule, denoiser, prediction type, data shape). */
  meta?: Record<string, unknown>;
  /** The run's config.yaml, parsed. */
  config?: Record<string, unknown>;
  /** The file names used, for the page's status line. */
  used: string[];
}

/** A tfjs model.json, as far as loading reads it. */
interface ModelJson extends Omit<ModelArtifacts, 'weightSpecs' | 'weightData'> {
  weightsManifest?: { paths?: unknown[]; weights?: ModelArtifacts['weightSpecs'] }[];
}

const baseName = (path: string) => path.split(/[\\/]/).pop() ?? path;
const decoder = new TextDecoder();
const text = (f: DroppedFile) => decoder.decode(f.bytes).replace(/^\uFEFF/, '');

/** Base64 of bytes, in chunks (String.fromCharCode takes a bounded argument list). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Bytes of base64 text; throws naming `what` when it is not base64. */
export function fromBase64(b64: string, what: string): Uint8Array {
  let s: string;
  try {
    s = atob(b64);
  } catch {
    throw new Error(`${what} is not base64 data: the packed run is damaged`);
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The files of a packed run (what {@link packRun} writes), or null when `f` is not one. */
export function unpackRun(f: DroppedFile): DroppedFile[] | null {
  if (!f.path.toLowerCase().endsWith('.json') || baseName(f.path) === 'model.json' || baseName(f.path) === 'diffusionlab.json') return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text(f));
  } catch {
    return null;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw) || typeof (raw as Record<string, unknown>)[RUN_FILES.model] !== 'string') return null;
  return Object.entries(raw as Record<string, unknown>).map(([path, b64]) => {
    if (typeof b64 !== 'string') throw new Error(`${f.path}: entry "${path}" is not base64 text; the packed run is damaged`);
    return { path, bytes: fromBase64(b64, `${f.path}: entry "${path}"`) };
  });
}

/**
 * Finds a checkpoint among dropped files: `model.json`, the weight files its manifest names, and,
 * when present, `diffusionlab.json` and `config.yaml`. Files are matched by name whatever folder
 * they came in, so a dropped run folder, its `checkpoint/` folder, loose files or a packed run all
 * work. Throws naming the missing file and where to find it.
 */
export function findCheckpoint(dropped: readonly DroppedFile[]): DroppedCheckpoint {
  const files = dropped.flatMap((f) => unpackRun(f) ?? [f]);
  const byName = new Map<string, DroppedFile>();
  // Shallowest path wins (a run folder's config.yaml over one in samples/…).
  for (const f of [...files].sort((a, b) => a.path.split('/').length - b.path.split('/').length)) if (!byName.has(baseName(f.path))) byName.set(baseName(f.path), f);
  const model = byName.get('model.json');
  if (!model) {
    const names = files.map((f) => baseName(f.path)).join(', ') || 'nothing';
    throw new Error(
      `No model.json among the dropped files (${names}): drop a run's checkpoint/ folder, or its model.json and weights.bin (and diffusionlab.json), or a packed run (.json) downloaded from this page.`,
    );
  }
  let modelJson: ModelJson;
  try {
    modelJson = JSON.parse(text(model));
  } catch (e) {
    throw new Error(`${model.path} is not valid JSON (${e instanceof Error ? e.message : String(e)}): it is not a tfjs model.json.`);
  }
  const paths = (modelJson.weightsManifest ?? []).flatMap((g) => g.paths ?? []).map(String);
  if (paths.length === 0) throw new Error(`${model.path} lists no weight files (weightsManifest): it is not a tfjs checkpoint.`);
  const missing = paths.filter((p) => !byName.has(baseName(p)));
  if (missing.length > 0)
    throw new Error(`${model.path} needs ${missing.join(', ')} beside it: drop ${missing.length > 1 ? 'those files' : 'that file'} too (it is in the same checkpoint/ folder).`);
  // The runner's loader reads one weights file; tfjs shards are concatenated in manifest order, which is what the manifest's offsets assume.
  const weightFiles = paths.map((p) => byName.get(baseName(p)) as DroppedFile);
  const parts = weightFiles.map((f) => f.bytes);
  const weightsBin = new Uint8Array(parts.reduce((s, b) => s + b.length, 0));
  let off = 0;
  for (const b of parts) {
    weightsBin.set(b, off);
    off += b.length;
  }
  const json = modelJson;
  const specs = (json.weightsManifest ?? []).flatMap((g) => g.weights ?? []);
  const artifacts: ModelArtifacts = {
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    modelTopology: json.modelTopology,
    trainingConfig: json.trainingConfig,
    userDefinedMetadata: json.userDefinedMetadata,
    weightSpecs: specs,
    weightData: weightsBin.buffer.slice(weightsBin.byteOffset, weightsBin.byteOffset + weightsBin.byteLength) as ArrayBuffer,
  };
  const used = [model.path, ...weightFiles.map((f) => f.path)];
  const metaFile = byName.get('diffusionlab.json');
  let meta: Record<string, unknown> | undefined;
  if (metaFile) {
    try {
      meta = JSON.parse(text(metaFile));
    } catch (e) {
      throw new Error(`${metaFile.path} is not valid JSON (${e instanceof Error ? e.message : String(e)}); drop the file the run wrote, unedited.`);
    }
    used.push(metaFile.path);
  }
  const configFile = byName.get('config.yaml') ?? byName.get('config.yml');
  let config: Record<string, unknown> | undefined;
  if (configFile) {
    try {
      config = parse(text(configFile)) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${configFile.path} is not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    used.push(configFile.path);
  }
  return { artifacts, meta, config, used };
}

const slotOf = (value: unknown): SlotChoice | undefined => {
  if (!value || typeof value !== 'object' || Array.isArray(value) || typeof (value as { use?: unknown }).use !== 'string') return undefined;
  const { use, ...options } = value as { use: string } & Record<string, unknown>;
  return { use, options };
};

/**
 * The setup a dropped checkpoint samples with, and what the page should say is missing. The model
 * (dataset, schedule, denoiser, prediction type) comes from diffusionlab.json, else from config.yaml;
 * the sampler, seed, sample count and metric come from config.yaml, else stay the page's current
 * ones (then the samples are not those `diffusionlab sample` draws, and the note says so).
 */
export function setupFromCheckpoint(ck: Pick<DroppedCheckpoint, 'meta' | 'config'>, current: Setup): { setup: Setup; missing: string[] } {
  const missing: string[] = [];
  const fromConfig = ck.config ? fromExperimentConfig(ck.config, current) : undefined;
  const meta = ck.meta ?? {};
  const dataset = slotOf(meta.dataset) ?? fromConfig?.dataset;
  const schedule = slotOf(meta.schedule) ?? fromConfig?.schedule;
  const denoiser = slotOf(meta.denoiser) ?? fromConfig?.denoiser;
  if (!dataset || !schedule || !denoiser) {
    throw new Error(
      'The model cannot be rebuilt: its schedule, denoiser and data shape are in checkpoint/diffusionlab.json (or the run’s config.yaml), and neither was dropped. Drop the whole checkpoint/ folder, or the run folder.',
    );
  }
  if (!ck.meta) missing.push('checkpoint/diffusionlab.json (the model is rebuilt from config.yaml alone)');
  if (!fromConfig) missing.push('config.yaml (the sampler, seed, sample count and metric are the page’s own, so the samples differ from `diffusionlab sample`)');
  const base = fromConfig ?? current;
  const predictionType = typeof meta.predictionType === 'string' ? meta.predictionType : undefined;
  const setup: Setup = {
    ...base,
    dataset,
    schedule,
    denoiser,
    training: { ...(fromConfig ? fromConfig.training : {}), ...(predictionType ? { predictionType } : {}) },
  };
  return { setup, missing };
}

/**
 * A packed run of a page-trained model: the run folder `diffusionlab sample` reads, as one JSON file
 * in the launchers' pack format (relative path → base64). Its config.yaml is the page's export, so the
 * CLI samples with the same sampler, seed and sample count as the page; `dataFiles` (a dropped data
 * file the `file` dataset names) ride along beside it.
 */
export function packRun(setup: Setup, artifacts: ModelArtifacts, meta: Record<string, unknown>, dataFiles: Readonly<Record<string, Uint8Array>> = {}): string {
  const files = artifactsToFiles(artifacts);
  const enc = new TextEncoder();
  const packed: Record<string, string> = {
    [RUN_FILES.config]: toBase64(enc.encode(toExperimentYaml(setup))),
    [RUN_FILES.model]: toBase64(enc.encode(files.modelJson)),
    [RUN_FILES.weights]: toBase64(files.weightsBin),
    [RUN_FILES.meta]: toBase64(enc.encode(`${JSON.stringify(meta, null, 2)}\n`)),
  };
  // Data files the config names by a relative path sit beside config.yaml, where the runner resolves them.
  for (const [name, bytes] of Object.entries(dataFiles)) packed[name] = toBase64(bytes);
  return JSON.stringify(packed);
}

/** The download name of a packed run: `<name>-run.json` (`diffusionlab sample` unpacks it into `<name>-run/`). */
export function packedRunName(setup: Setup): string {
  return `${setup.name.replace(/[^\w.-]+/g, '-') || 'playground'}-run.json`;
}
