/**
 * The diffusionlab runner as a library: load and validate configs, run experiments, and type
 * configs in TypeScript with {@link defineExperiment}.
 */
export * from './config.js';
export * from './files.js';
export * from './load.js';
export * from './plugins.js';
export * from './run.js';
export { setupBackend, type BackendInfo, type SetupBackendOptions } from './backend.js';
export { chooseAutoBackend, type AutoBackendChoice, type FusedProbe } from './auto-backend.js';
export { experimentSchema, type Experiment, type ExperimentInput } from './schema.js';
export { defineExperiment } from './define.js';
export * from './sample.js';
export * from './sweep.js';
export { isTsConfigFile, loadTsConfig } from './ts-config.js';
