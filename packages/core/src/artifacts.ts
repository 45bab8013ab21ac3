/**
 * Converts tfjs model artifacts to and from the two standard files (`model.json` + `weights.bin`),
 * so checkpoints load with `tf.loadLayersModel` in a browser and with our loaders in Node.
 */
import type { ModelArtifacts } from './spec.js';

/** The bytes of a checkpoint directory. */
export interface CheckpointFiles {
  modelJson: string;
  weightsBin: Uint8Array;
}

/** The weights file name referenced from `model.json`'s weightsManifest. */
export const WEIGHTS_FILE = 'weights.bin';

/** Serialises artifacts into `model.json` text (with a weightsManifest) and one weights file. */
export function artifactsToFiles(a: ModelArtifacts): CheckpointFiles {
  const weightData = a.weightData;
  let weightsBin: Uint8Array;
  if (weightData === undefined) weightsBin = new Uint8Array(0);
  else if (Array.isArray(weightData)) {
    const total = weightData.reduce((s, b) => s + b.byteLength, 0);
    weightsBin = new Uint8Array(total);
    let off = 0;
    for (const b of weightData) {
      weightsBin.set(new Uint8Array(b), off);
      off += b.byteLength;
    }
  } else weightsBin = new Uint8Array(weightData as ArrayBuffer);
  const json = {
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    modelTopology: a.modelTopology,
    trainingConfig: a.trainingConfig,
    userDefinedMetadata: a.userDefinedMetadata,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: a.weightSpecs ?? [] }],
  };
  return { modelJson: JSON.stringify(json), weightsBin };
}

/** Parses the two files back into artifacts (the inverse of {@link artifactsToFiles}). */
export function filesToArtifacts(files: CheckpointFiles): ModelArtifacts {
  const json = JSON.parse(files.modelJson);
  const manifest = json.weightsManifest as { paths: string[]; weights: ModelArtifacts['weightSpecs'] }[];
  const specs = manifest.flatMap((g) => g.weights ?? []);
  const bytes = files.weightsBin;
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return {
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    modelTopology: json.modelTopology,
    trainingConfig: json.trainingConfig,
    userDefinedMetadata: json.userDefinedMetadata,
    weightSpecs: specs,
    weightData: buffer,
  };
}
