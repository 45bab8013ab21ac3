/**
 * {@link defineExperiment}, in its own module so TypeScript configs can get it without loading the
 * whole runner (see ts-config.ts).
 */
import type { ExperimentInput } from './schema.js';

/** Identity helper for `experiment.config.ts`: editors autocomplete keys and check types. */
export function defineExperiment(config: ExperimentInput): ExperimentInput {
  return config;
}
