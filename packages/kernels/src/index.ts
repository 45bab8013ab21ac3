/**
 * @diffusionlab/kernels: fused WebAssembly SIMD kernels for plain and residual MLP denoisers and the
 * U-Net (a train step and a forward pass) as optional accelerators beside the plain tfjs path, plus a faster
 * matMul gradient for tfjs's wasm backend.
 */
export { mlpTrainAccelerator, createFusedMlpTrainer, createFusedTrainer, fusedTrainOptions, FusedMlpTrainer, FUSED_UNET_PATH } from './train-accelerator.js';
export { FusedTrainingPath, fusedStateOf } from './fused-training-path.js';
export { createFusedResidualMlpTrainer, FusedResidualMlpTrainer } from './residual-train.js';
export { createFusedUnetTrainer, FusedUnetTrainer } from './unet-train.js';
export { createFusedUnetPredictor } from './unet-predictor.js';
export { unetShape, type UnetShape } from './unet-network.js';
export { installResizeNearestGradientFix, resizeNearestGradConfig } from './resize-nearest-gradient.js';
export { FusedAdamTrainer, type AdamBlock, type AcceleratorTrainOptions, type FusedOptimizerState } from './fused-adam.js';
export { createFusedResidualMlpPredictor } from './residual-predictor.js';
export { residualMlpShape, type ResidualMlpShape } from './residual-mlp-network.js';
export { createFusedMlpPredictor, type FusedMlpPredictor } from './predictor.js';
export {
  fusedDdpmDeclines,
  fusedDdpmLoop,
  type FusedDdpmLoopParams,
  sampleDdpmFused,
  sampleDdpmFusedParallel,
  sampleDdpmFusedTrajectory,
  terminateDdpmWorkers,
  type DdpmSnapshot,
  type FusedDdpmParams,
  type FusedDdpmTrajectory,
  type NormalSource,
} from './ddpm.js';
export { createFusedPredictModel, FUSED_MLP_PATH, FUSED_UNET_PREDICT_PATH, type FusedPredictModel, type FusedPredictOptions } from './fused-model.js';
export { installMatMulGradientFix, uninstallMatMulGradientFix, matMulGradientFixInstalled, matMulGradConfig } from './matmul-gradient.js';
export { mlpShape, type MlpShape } from './describe.js';
export { checkKernelBytes, declineIfTooBig, KERNEL_MAX_BYTES, KernelMemoryError, simdSupported } from './wasm.js';

/** No config plugins: the runner wires the accelerator and predictor directly. */
export const plugins = [] as const;
