/**
 * @diffusionlab/testkit: conformance suites and numeric assertions for diffusionlab plugin
 * authors. Suites call vitest's describe/it/expect, so import this from test files only.
 */
export { ConformanceError, expectClose, expectNoTensorLeak, meanStd, type Tolerance } from './assertions.js';
export { activateBackendBeforeAll, ensureBackend, type TestBackend } from './backend.js';
export * from './deprecated.js';
export { gaussianDenoiser, gaussianFlowDenoiser, gaussianPosterior } from './gaussian.js';
export {
  checkSamplerDeterminism,
  checkSamplerDistribution,
  checkSamplerRun,
  checkSamplerDeclarations,
  checkSamplerTimesteps,
  conformanceSchedule,
  distributionTolerance,
  runSampler,
  type SamplerCheckSetting,
  type SamplerConformanceOptions,
  type SamplerRun,
  samplerConformance,
} from './sampler-conformance.js';
export {
  ALPHA_BAR_TOL,
  checkSchedule,
  checkScheduleDeterminism,
  checkScheduleOptionsRoundTrip,
  checkScheduleRejects,
  createSchedule,
  type ScheduleConformanceExtras,
  scheduleConformance,
} from './schedule-conformance.js';
export { checkOptionsRoundTrip, checkRejects, type InvalidOptionsCase, testPluginContext } from './plugin-options.js';
export {
  checkDenoiserDeterminism,
  checkDenoiserGradients,
  checkDenoiserPredict,
  checkLayersModelMatches,
  checkPredictNoLeak,
  checkSaveLoadIdentical,
  type DenoiserConformanceOptions,
  denoiserConformance,
  denoiserContext,
  denoiserInputs,
  predictValues,
  weightValues,
} from './denoiser-conformance.js';
export {
  checkDatasetDraw,
  checkDatasetLoad,
  checkDatasetShape,
  checkDisjointRows,
  type DatasetConformanceOptions,
  datasetConformance,
} from './dataset-conformance.js';
export {
  checkMetricDeterminism,
  checkMetricNoiseFloor,
  checkMetricRejectsShapes,
  datasetSource,
  defaultMetricSource,
  type MetricCheckSetting,
  type MetricConformanceOptions,
  type MetricSource,
  metricConformance,
  metricContext,
  mixtureSource,
  type NoiseFloor,
  resultValue,
} from './metric-conformance.js';
export {
  checkReporterHooks,
  REPORTER_HOOKS,
  type ReporterConformanceOptions,
  type ReporterEvents,
  type ReporterHook,
  type ReporterSandbox,
  reporterConformance,
  reporterEvents,
  reporterSandbox,
} from './reporter-conformance.js';
