/**
 * Seeded, backend-independent random numbers. All randomness in diffusionlab (data, timesteps,
 * noise, shuffles, projections) comes from here, so the same seed gives the same numbers on every
 * tfjs backend and the CPU reference.
 */

/** splitmix32: expands one 32-bit seed into well-mixed state words (Steele et al. 2014). */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over a label, so `fork('train')` and `fork('sample')` give independent streams. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * xoshiro128** generator (Blackman & Vigna 2018): fast, 2^128 period, good statistics; forkable
 * into named sub-streams so adding a random draw in one place does not shift every other one.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;
  /** The seed this stream was made from (after forking), recorded in run environments. */
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be a finite number, got ${seed}`);
    this.seed = seed >>> 0;
    const st = { s: this.seed ^ Math.floor(seed / 2 ** 32) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** The full generator state, so a resumed run continues the exact same stream. */
  getState(): number[] {
    return [this.a, this.b, this.c, this.d, this.spare === null ? Number.NaN : this.spare];
  }

  /** Restores a state from {@link getState}. */
  setState(state: readonly number[]): void {
    if (state.length !== 5) throw new RangeError('Rng.setState expects the 5 numbers getState returned');
    [this.a, this.b, this.c, this.d] = state.map((v) => v | 0);
    const spare = state[4] as number | null;
    this.spare = spare === null || Number.isNaN(spare) ? null : spare;
  }

  /** An independent stream keyed by `label`; deterministic for a given parent seed. */
  fork(label: string): Rng {
    return new Rng((Math.imul(this.seed ^ 0x5bd1e995, 0x27d4eb2d) ^ hashLabel(label)) >>> 0);
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n); unbiased (rejection sampling). */
  int(n: number): number {
    if (!(n > 0) || n > 2 ** 32 || !Number.isInteger(n)) throw new RangeError(`Rng.int bound must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Standard normal draw (Marsaglia polar method; the spare is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    return u * m;
  }

  /** `n` standard normal draws as float32, ready to upload as a tensor. */
  normalArray(n: number, out: Float32Array = new Float32Array(n)): Float32Array {
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }

  /** `n` uniform integers in [0, bound), as float32 (timesteps are fed to models as floats). */
  intArray(n: number, bound: number, out: Float32Array = new Float32Array(n)): Float32Array {
    for (let i = 0; i < n; i++) out[i] = this.int(bound);
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }

  /** Shuffles an array in place (Fisher–Yates), as a DataLoader with shuffle=True does each epoch. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
