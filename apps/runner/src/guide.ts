/**
 * The autoguidance guide of a run (Karras et al. 2024): the model's own sampling weights saved at
 * `training.guideSnapshotStep` into `<run>/guide-checkpoint/`. `run` writes it while training and
 * both `run` and `sample` load it when `sampler.autoguidance` asks for it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DiffusionLabError, type Denoiser, type DenoiserBuildContext, type DenoiserModel } from '@diffusionlab/core';
import type { ResolvedExperiment } from './config.js';
import { GUIDE_CHECKPOINT, loadCheckpoint } from './files.js';

/**
 * Loads the guide a config's `sampler.autoguidance` needs from `runDir`, or returns undefined when it
 * needs none. A run trained without the snapshot is a clear error that says how to get one.
 */
export async function loadGuide(r: ResolvedExperiment, runDir: string, denoiser: Denoiser, ctx: DenoiserBuildContext): Promise<DenoiserModel | undefined> {
  // w = 1 is the model alone (autoguidedPredict): no guide is read, so `sampler.autoguidance=1` samples a run without one.
  if (r.autoguidance === undefined || r.autoguidance === 1) return undefined;
  const dir = join(runDir, GUIDE_CHECKPOINT);
  if (!existsSync(join(dir, 'model.json'))) {
    throw new DiffusionLabError(`sampler.autoguidance needs the guide snapshot ${dir}, and the run has none`, {
      code: 'NO_GUIDE',
      hint: 'train a run with training.guideSnapshotStep set (e.g. an eighth of training.steps), or sample without a guide: sampler.autoguidance=1',
    });
  }
  const { artifacts, meta } = loadCheckpoint(dir);
  const want = r.experiment.training.guideSnapshotStep;
  if (meta.trainingSteps !== want) {
    throw new DiffusionLabError(`${dir} was saved at step ${String(meta.trainingSteps)}, but training.guideSnapshotStep is ${String(want)}`, {
      code: 'NO_GUIDE',
      hint: 'sample with the run’s own training section, or train again with the snapshot step you want',
    });
  }
  return await denoiser.load(artifacts, ctx);
}
