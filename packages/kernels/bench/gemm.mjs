// Benchmark (not a test): the kernels' matrix multiplies (assembly/gemm.ts) against
// tfjs-backend-wasm's XNNPACK matMul on the same shapes, in the same process, one thread, in
// GMAC/s (10⁹ multiply-adds a second). The shapes are the seed MLP's (batch 32 training: forward,
// ∂X, ∂W; the sampler's 64-row tile; batch 1000) and a 3×3 convolution lowered to im2col
// (2304 output positions, e.g. 16 images of 12×12, × 288 = 3·3·32 inputs → 32 channels, with its
// filter and input gradients). XNNPACK runs tf.fused.matMul with the bias for NN (what our
// gemmNN computes) and a plain tf.matMul of an M×K by a K×N matrix for NT and TN: XNNPACK's best
// case. (tf.matMul with its transpose flags, what tfjs's own gradients call, ran at about 1.4
// GMAC/s on this machine for those shapes: the wasm backend transposes first.)
// Needs `pnpm build` first (imports dist/).
//
// Usage: node bench/gemm.mjs [--quick]        (pnpm bench:gemm in this package)
// `pnpm bench --only gemm` at the repository root runs the same cases through the suite's driver.
//
// Rates are reported per CPU-second as well as per wall-second: on a loaded machine the CPU
// figure is the single-thread speed, the wall figure what was left of it.
import { MLP_WASM_BASE64 } from '../dist/generated/mlp-wasm.js';

/**
 * The benchmarked products: C = A·B (NN), A·Bᵀ (NT), Aᵀ·B (TN), C being M×N and K the summed
 * dimension. `use` says which fused path calls that product.
 */
export const GEMM_SHAPES = [
  { op: 'NN', M: 32, K: 128, N: 128, use: 'seed training forward, batch 32' },
  { op: 'NT', M: 32, K: 128, N: 128, use: 'seed training ∂X = ∂Y·Wᵀ' },
  { op: 'TN', M: 128, K: 32, N: 128, use: 'seed training ∂W = Xᵀ·∂Y' },
  { op: 'NN', M: 64, K: 128, N: 128, use: 'seed sampling, one 64-row tile' },
  { op: 'NN', M: 1000, K: 128, N: 128, use: 'batch 1000 × 128 → 128' },
  { op: 'NN', M: 2304, K: 288, N: 32, use: 'conv 3×3, 32 → 32 channels, im2col forward' },
  { op: 'TN', M: 288, K: 2304, N: 32, use: 'conv filter gradient' },
  { op: 'NT', M: 2304, K: 32, N: 288, use: 'conv input gradient (before col2im)' },
];

/** `1000x128x128` with the operation, as the rows name a shape. */
export function shapeLabel(s) {
  return `${s.op} ${s.M}x${s.K}x${s.N}`;
}

function decodeBase64(b64) {
  return Uint8Array.from(Buffer.from(b64, 'base64'));
}

/** Deterministic values in [−1, 1) (a linear congruential generator; the numbers do not matter, their being finite does). */
function fill(f, from, count, seed) {
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    f[from + i] = s / 2 ** 31 - 1;
  }
}

/**
 * For each shape, a runner for the kernels (a fresh module instance with A, B, C and a bias in its
 * memory) and one for XNNPACK (tf.matMul on the wasm backend, results disposed). `run(iters)`
 * does `iters` products. Call `dispose()` when done.
 */
export function gemmCases(tf) {
  const module = new WebAssembly.Module(decodeBase64(MLP_WASM_BASE64));
  return GEMM_SHAPES.map((s) => {
    const { op, M, K, N } = s;
    const k = new WebAssembly.Instance(module, {
      env: {
        abort: () => {
          throw new Error('wasm abort');
        },
      },
    }).exports;
    const base = (k.heapBase() + 63) & ~63;
    const bytes = (M * K + K * N + M * N + N + 64) * 4;
    const need = base + bytes - k.memory.buffer.byteLength;
    if (need > 0) k.memory.grow(Math.ceil(need / 65536));
    const a = base,
      b = a + M * K * 4,
      c = b + K * N * 4,
      bias = c + M * N * 4;
    const f = new Float32Array(k.memory.buffer);
    fill(f, a / 4, M * K, 1);
    fill(f, b / 4, K * N, 2);
    fill(f, bias / 4, N, 3);
    const kernel = op === 'NN' ? () => k.gemmNN(a, b, c, M, K, N, bias) : op === 'NT' ? () => k.gemmNT(a, b, c, M, K, N) : () => k.gemmTN(a, b, c, M, K, N);
    // XNNPACK's operands already in the layout its kernel reads (see the header)
    const ta = tf.tensor2d(f.slice(a / 4, a / 4 + M * K), [M, K]);
    const tb = tf.tensor2d(f.slice(b / 4, b / 4 + K * N), [K, N]);
    const tbias = tf.tensor1d(f.slice(bias / 4, bias / 4 + N));
    const xnn = () => {
      // the wasm backend runs each op synchronously, so the product is done when matMul returns
      const y = op === 'NN' ? tf.fused.matMul({ a: ta, b: tb, bias: tbias }) : tf.matMul(ta, tb);
      y.dispose();
    };
    const loop = (fn) => (iters) => {
      for (let i = 0; i < iters; i++) fn();
    };
    return {
      ...s,
      label: shapeLabel(s),
      macs: M * K * N,
      kernels: loop(kernel),
      xnnpack: loop(xnn),
      dispose: () => tf.dispose([ta, tb, tbias]),
    };
  });
}

/** Iterations that take about `seconds` at `rate` multiply-adds a second. */
export function itersFor(macs, seconds, rate = 2e10) {
  return Math.max(3, Math.ceil((rate * seconds) / macs));
}

/** Wall and process-CPU seconds of `fn()`. */
export function timeIt(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const c = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
}

async function main() {
  const quick = process.argv.includes('--quick');
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  const rounds = quick ? 5 : 15;
  console.log(`GEMM, one thread, GMAC/s: best of ${rounds} rounds, kernels and XNNPACK alternating (per CPU-second; per wall-second in brackets)`);
  for (const c of gemmCases(tf)) {
    const iters = itersFor(c.macs, quick ? 0.02 : 0.05);
    // warm-up: long enough for V8 to finish the optimising compile of the wasm functions
    c.kernels(iters * 4);
    c.xnnpack(iters * 2);
    const best = { kernels: { cpu: 0, wall: 0 }, xnnpack: { cpu: 0, wall: 0 } };
    for (let r = 0; r < rounds; r++) {
      for (const impl of ['kernels', 'xnnpack']) {
        const t = timeIt(() => c[impl](iters));
        best[impl].cpu = Math.max(best[impl].cpu, (c.macs * iters) / t.cpuSeconds / 1e9);
        best[impl].wall = Math.max(best[impl].wall, (c.macs * iters) / t.seconds / 1e9);
      }
    }
    c.dispose();
    const show = (b) => `${b.cpu.toFixed(1).padStart(5)} (${b.wall.toFixed(1).padStart(5)})`;
    console.log(`${c.label.padEnd(18)} kernels ${show(best.kernels)}   xnnpack ${show(best.xnnpack)}   ratio ${(best.kernels.cpu / best.xnnpack.cpu).toFixed(2)}   ${c.use}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
