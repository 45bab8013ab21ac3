/** Running small config texts end to end, shared by the runner's tests that train and sample real runs. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy } from '@diffusionlab/core';
import { mlpTrainAccelerator } from '@diffusionlab/kernels';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';

/**
 * A `runText(name, text, overrides, accelerate)` that writes `text` to `<dir>/<name>.yaml`, runs it
 * quietly into `<dir>/<name>` (with the fused accelerator when asked) and returns the directory and summary.
 */
export function configRunner(dir: string) {
  return async (name: string, text: string, overrides: string[] = [], accelerate = false) => {
    const cfg = join(dir, `${name}.yaml`);
    writeFileSync(cfg, text);
    const loaded = await loadExperiment(cfg, overrides);
    const out = join(dir, name);
    const res = await runExperiment(withSummaryReporter(loaded.resolved, loaded.registry), {
      out,
      print: () => {},
      ...(accelerate ? { accelerator: mlpTrainAccelerator } : {}),
    });
    return { out, summary: res.summary as Record<string, Record<string, unknown>> };
  };
}

/** The values of a .npy file, as a plain array. */
export const npy = (path: string) => Array.from(decodeNpy(readFileSync(path)).data);
