/**
 * examples/seed-1d-improved.yaml as a typed TypeScript config: the same experiment, so
 * `pnpm diffusionlab run examples/seed-1d-improved.config.ts` gives the same numbers. The editor
 * (and `tsc`, with examples/tsconfig.json) checks every key and type; the runner still validates
 * each plugin's options when it loads the file. See the YAML file for why each setting is chosen.
 */
import { defineExperiment } from 'diffusionlab';

/** The reference task's data: 1000 points, half N(−2, 0.5²) and half N(2, 0.5²). */
const components = [
  { mean: -2, std: 0.5 },
  { mean: 2, std: 0.5 },
];

export default defineExperiment({
  name: 'seed-1d-improved-ts',
  seed: 42,
  backend: 'auto',
  dataset: { use: 'gaussian-mixture', size: 1000, components },
  schedule: { use: 'cosine', timesteps: 100 },
  denoiser: { use: 'seed-mlp', hidden: 128 },
  training: {
    epochs: 1000,
    batchSize: 32,
    learningRate: 0.002,
    lrSchedule: 'cosine',
    warmupSteps: 500,
    emaDecay: 0.999,
    predictionType: 'v',
    logEvery: 100,
  },
  sampler: { use: 'ddpm' },
  evaluation: { samples: 10000, metrics: ['w1', 'modes'] },
  reporters: ['console', 'histogram', 'loss', 'trajectory', 'schedule', 'html', 'summary'],
});
