/**
 * Shared label handling for the conditional metrics (`digit-accuracy`, `component-accuracy`,
 * `class-diversity`): they read the requested class of each generated sample and the true class of
 * each reference sample from {@link MetricContext.labels}, and refuse, naming themselves, when a run
 * has none or the labels do not fit the data — one wording for all of them.
 */
import { type ClassLabels, type MetricContext, PluginError } from '@diffusionlab/core';

const hint = (metric: string) =>
  `"${metric}" measures conditional generation: use it in a run whose dataset has labels and whose denoiser is conditioned on them, or remove "${metric}" from evaluation.metrics.`;

/** Throws when a run has no classes to request (`labelNames` absent or empty): what `Metric.check` calls before training. */
export function checkLabelNames(metric: string, labelNames: readonly string[] | undefined): void {
  if (!labelNames || labelNames.length === 0) {
    throw new PluginError(`Metric "${metric}": this run generates without class labels, so there is no requested class to compare with.`, { hint: hint(metric) });
  }
}

function checkArray(metric: string, which: 'samples' | 'reference', labels: Int32Array, rows: number, classes: number): void {
  if (labels.length !== rows) {
    throw new PluginError(`Metric "${metric}": labels.${which} has ${labels.length} entries but there are ${rows} ${which === 'samples' ? 'generated' : 'reference'} samples.`, {
      hint: 'Give one class index per sample, in sample order.',
    });
  }
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c < 0 || c >= classes) {
      throw new PluginError(`Metric "${metric}": labels.${which}[${i}] is ${c}, outside the ${classes} classes 0…${classes - 1} of labels.names.`, {
        hint: 'Class indices must index labels.names.',
      });
    }
  }
}

/**
 * The labels of ctx, checked against n generated and m reference rows: present, one per row, each a
 * valid index into `names`. Throws a PluginError naming the metric otherwise.
 */
export function requireLabels(metric: string, ctx: MetricContext, n: number, m: number): ClassLabels {
  const labels = ctx.labels;
  if (!labels) {
    throw new PluginError(`Metric "${metric}": the samples come without class labels, so there is no requested class to compare with.`, { hint: hint(metric) });
  }
  checkLabelNames(metric, labels.names);
  checkArray(metric, 'samples', labels.samples, n, labels.names.length);
  checkArray(metric, 'reference', labels.reference, m, labels.names.length);
  return labels;
}

/** Row indices of each class 0…classes−1, in row order. */
export function rowsByClass(labels: Int32Array, classes: number): number[][] {
  const out: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) out[labels[i]].push(i);
  return out;
}

/** Rows `idx` of a row-major [n, d] array, packed into a new [idx.length, d] array. */
export function gatherRows(data: Float32Array, d: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * d);
  for (let k = 0; k < idx.length; k++) out.set(data.subarray(idx[k] * d, idx[k] * d + d), k * d);
  return out;
}
