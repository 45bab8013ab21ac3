/**
 * The sinusoidal time embedding (Vaswani et al. 2017, §3.5, as DDPM embeds t: Ho et al. 2020,
 * App. B) of 1000·t/T, computed on the JS side in float32 with the same op order as the denoisers'
 * tfjs `timeEmbedding`, so a fused network sees bit-identical features. Integer timesteps repeat
 * every batch, so rows are cached per t.
 */

/** Distinct t values whose rows are kept. */
const CACHE_LIMIT = 8192;

/** Rows [sin(s·ωᵢ), cos(s·ωᵢ)], ωᵢ = 10000^(−i/half), s = t·(1000/T), as tfjs rounds them. */
export class SinusoidalTimeEmbedding {
  private readonly freqs: Float32Array;
  /** 1000/T as float32 (the scalar tfjs multiplies t by). */
  private readonly tScale: number;
  private readonly cache = new Map<number, Float32Array>();

  constructor(
    readonly dim: number,
    numTrainTimesteps: number,
  ) {
    const half = dim / 2;
    this.freqs = new Float32Array(half);
    for (let i = 0; i < half; i++) this.freqs[i] = Math.exp((-Math.log(10000) * i) / half);
    this.tScale = Math.fround(1000 / numTrainTimesteps);
  }

  /** The embedding row of timestep t. */
  row(t: number): Float32Array {
    let row = this.cache.get(t);
    if (row) return row;
    const half = this.freqs.length;
    row = new Float32Array(2 * half);
    const s = Math.fround(Math.fround(t) * this.tScale);
    for (let i = 0; i < half; i++) {
      const a = Math.fround(s * this.freqs[i]);
      row[i] = Math.sin(a);
      row[half + i] = Math.cos(a);
    }
    if (this.cache.size < CACHE_LIMIT) this.cache.set(t, row);
    return row;
  }

  /** Writes the rows of t[from … from + n) (or of one t for all n rows) into out at float offset `at`. */
  write(out: Float32Array, at: number, t: Float32Array | number, n: number, from = 0): void {
    for (let i = 0; i < n; i++) out.set(this.row(typeof t === 'number' ? t : t[from + i]), at + i * this.dim);
  }
}
