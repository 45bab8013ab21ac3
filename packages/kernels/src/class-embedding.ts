/**
 * The class embedding of a conditional model as the fused networks run it: e's pre-activation gets
 * row yᵢ of C ([K + 1, width], row K the null class), as the denoisers' one-hot(y)·C adds it, and
 * C's gradient is the scatter-add of that pre-activation's gradient into the rows of the batch's
 * classes (one-hot(y)ᵀ·∂, without the dense product). Shared by the residual MLP and the U-Net.
 */

/**
 * Writes the classes of rows [0, n) from labels[from … from + n) into `out`, or the null class K
 * for every row when `labels` is absent (the model's unconditional prediction). Throws on a label
 * outside [0, K]: the model's one-hot would give such a row no embedding at all, silently.
 */
export function writeLabels(out: Int32Array, labels: ArrayLike<number> | undefined, n: number, from: number, K: number, who: string): void {
  if (!labels) {
    out.fill(K, 0, n);
    return;
  }
  if (labels.length < from + n) throw new Error(`${who}: ${labels.length} labels for ${from + n} rows`);
  for (let i = 0; i < n; i++) {
    const y = labels[from + i];
    if (!(Number.isInteger(y) && y >= 0 && y <= K)) throw new Error(`${who}: label ${y} is outside [0, ${K}] (${K} classes and the null class ${K})`);
    out[i] = y;
  }
}

/** dst row i += src row rows[i] for i in [0, n), rows of `width` floats (byte pointers into f32's memory). */
export function gatherAddRows(f32: Float32Array, dst: number, src: number, rows: Int32Array, n: number, width: number): void {
  const d0 = dst / 4;
  const s0 = src / 4;
  for (let i = 0; i < n; i++) {
    const d = d0 + i * width;
    const s = s0 + rows[i] * width;
    for (let j = 0; j < width; j++) f32[d + j] += f32[s + j];
  }
}

/** dst row rows[i] += src row i for i in [0, n), after zeroing dst's `dstRows` rows: C's gradient. */
export function scatterAddRows(f32: Float32Array, dst: number, dstRows: number, src: number, rows: Int32Array, n: number, width: number): void {
  const d0 = dst / 4;
  const s0 = src / 4;
  f32.fill(0, d0, d0 + dstRows * width);
  for (let i = 0; i < n; i++) {
    const d = d0 + rows[i] * width;
    const s = s0 + i * width;
    for (let j = 0; j < width; j++) f32[d + j] += f32[s + j];
  }
}

/** Reads a description's class embedding: K (0 without one), or why it is not [K + 1, width] float32 with K ≥ 1. */
export function classCount(c: { dtype: string; shape: number[] } | undefined, width: number): number | string {
  if (c === undefined) return 0;
  if (c.dtype !== 'float32') return 'the class embedding is not float32';
  if (c.shape.length !== 2 || c.shape[1] !== width || !(c.shape[0] >= 2)) return `the class embedding is [${c.shape}], expected [K + 1, ${width}] with K ≥ 1`;
  return c.shape[0] - 1;
}
