/**
 * Memory estimates that plugins may offer, so the runner can refuse a config that cannot fit in
 * the machine's memory before any work starts, naming the option that drives the size.
 */

/** What a plugin's estimate may depend on besides its own options. */
export interface MemoryEstimateContext {
  /** Shape of one data row; absent while estimating the dataset itself (it is not read yet). */
  dataShape?: readonly number[];
  /** Training batch size (`training.batchSize`). */
  batchSize: number;
  /** Rows the run samples and evaluates (`evaluation.samples`). */
  samples: number;
  /** Rows per sampler call (`evaluation.batchSize`, else all samples at once). */
  sampleBatch: number;
}

/** Peak bytes a plugin will hold, and the option key that drives them (for the refusal message). */
export interface MemoryEstimate {
  bytes: number;
  /** The plugin's option that sets the size, e.g. `size` or `width` (shown as `dataset.size`). */
  key: string;
  /** What the bytes are, in a few words ("1e12 rows of 2 values"). */
  what: string;
  /**
   * Bytes one row costs in a forward pass (a denoiser's activations), so the runner can charge
   * sampling batches to `evaluation.batchSize` / `evaluation.samples` rather than to this plugin.
   */
  perRowBytes?: number;
  /** Shape of one row, where a dataset knows it without reading its data. */
  dataShape?: readonly number[];
}
