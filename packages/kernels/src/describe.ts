/**
 * Checks a {@link PlainMlpDescription} against what the fused kernels run and reduces it to sizes.
 * Both the trainer and the predictor start here, so they decline the same models.
 */
import type { DenoiserModel, ModelDescription, PlainMlpDescription } from '@diffusionlab/core';

/** Activation codes as assembly/mlp.ts numbers them. */
export const ACTIVATION_CODE = { silu: 0, relu: 1, tanh: 2, gelu: 3 } as const;

/** A validated plain MLP: widths[0] = D + 1 (x and raw t), widths[L] = D. */
export interface MlpShape {
  widths: number[];
  activation: keyof typeof ACTIVATION_CODE;
  /** Data dimension D (= output width). */
  dataDim: number;
}

/** Returns the shape, or a reason string when the kernels cannot run this description. */
export function mlpShape(desc: PlainMlpDescription | null | undefined): MlpShape | string {
  if (!desc) return 'the model does not describe itself as a plain MLP';
  if (desc.kind !== 'plain-mlp') return `unsupported model kind '${String(desc.kind)}'`;
  if (desc.input !== 'concat-raw-t') return `unsupported input '${String(desc.input)}' (only concat-raw-t)`;
  if (!(desc.activation in ACTIVATION_CODE)) return `unsupported activation '${String(desc.activation)}'`;
  if (desc.layers.length < 1) return 'the MLP has no layers';
  const widths: number[] = [];
  for (const [i, { kernel, bias }] of desc.layers.entries()) {
    if (kernel.dtype !== 'float32' || bias.dtype !== 'float32') return `layer ${i} is not float32`;
    if (kernel.shape.length !== 2 || bias.shape.length !== 1) return `layer ${i} is not a dense [in, out] kernel with an [out] bias`;
    const [nin, nout] = kernel.shape;
    if (bias.shape[0] !== nout) return `layer ${i} bias has ${bias.shape[0]} entries for ${nout} outputs`;
    if (i === 0) widths.push(nin);
    else if (widths[i] !== nin) return `layer ${i} takes ${nin} inputs but layer ${i - 1} gives ${widths[i]}`;
    widths.push(nout);
  }
  const dataDim = widths[widths.length - 1];
  if (widths[0] !== dataDim + 1) return `input width ${widths[0]} is not output width ${dataDim} + 1 (concat of x and t)`;
  return { widths, activation: desc.activation, dataDim };
}

/**
 * Why the kernels decline a class-conditional model (one with `labelNames`), or null when they run
 * it: only a description that carries the model's class embedding C with K + 1 rows (the residual
 * MLP's and the U-Net's `classEmbedding`) is run, with its labels; any other conditional model (a
 * plain MLP, a description without C) is declined, since running it without its labels would train or
 * sample the wrong function silently. A description with a class embedding but a model without
 * `labelNames` is declined too (nothing would say which class a row is).
 */
export function conditionalDecline(model: Pick<DenoiserModel, 'labelNames'>, desc?: ModelDescription | null): string | null {
  const names = model.labelNames;
  const c = desc && 'classEmbedding' in desc ? desc.classEmbedding : undefined;
  if (!names) return c ? 'the model describes a class embedding but has no labelNames' : null;
  if (c && c.shape.length === 2 && c.shape[0] === names.length + 1) return null;
  if (c) return `the model has ${names.length} classes but its class embedding has ${c.shape[0]} rows (expected ${names.length + 1}, the last the null class)`;
  return `the model is class-conditional (${names.length} classes); the fused kernels run no class embedding for it, so it trains and samples on tfjs`;
}
