/**
 * The memory estimate of a trained network, shared by the denoisers' `estimateMemory` hooks: its
 * parameters with everything training keeps per parameter, plus per-row activations for a
 * training batch (and, reported separately, per sampled row).
 */
import type { MemoryEstimate, MemoryEstimateContext } from '@diffusionlab/core';

/**
 * float32 copies per parameter while training: weights, gradients, Adam's two moments, the EMA
 * shadow, and the fused kernel's own copy of the weights.
 */
export const PARAMETER_COPIES = 6;

/** Activation buffers alive per stored activation value: forward values, their gradients, and tfjs temporaries. */
export const ACTIVATION_COPIES = 3;

/**
 * Bytes for training a network of `params` parameters whose forward pass keeps `activationsPerRow`
 * values per row, at the context's training batch size, attributed to option `key`; a forward pass
 * alone keeps `inferencePerRow` values per row, which the runner charges to the evaluation options.
 */
export function networkEstimate(params: number, activationsPerRow: number, ctx: MemoryEstimateContext, key: string, inferencePerRow: number): MemoryEstimate {
  const bytes = params * 4 * PARAMETER_COPIES + ctx.batchSize * activationsPerRow * 4 * ACTIVATION_COPIES;
  return { bytes, key, what: `${params.toExponential(2)} parameters trained in ${ctx.batchSize}-row batches`, perRowBytes: inferencePerRow * 4 };
}
