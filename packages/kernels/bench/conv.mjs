// Micro-benchmark of the im2col convolution (assembly/conv.ts) on the unet-train shapes: forward,
// input gradient and filter gradient of a 3×3 conv on [32, 14, 14, C], for several im2col chunk
// sizes (chunk = all pixels is plain, unchunked im2col). Prints GMAC/s (wall, one thread).
// Run: node packages/kernels/bench/conv.mjs (after `pnpm build`).
import { KernelInstance } from '../dist/wasm.js';

const [N, H, W] = [32, 14, 14];
const P = N * H * W;
for (const [cin, cout] of [
  [32, 32],
  [96, 32],
  [64, 64],
]) {
  for (const chunk of [32, 128, 512, P]) {
    const inst = new KernelInstance();
    const x = inst.alloc(P * cin);
    const y = inst.alloc(P * cout);
    const w = inst.alloc(9 * cin * cout);
    const dw = inst.alloc(9 * cin * cout);
    const scratch = inst.alloc(chunk * 9 * Math.max(cin, cout));
    const f = inst.view(x, P * cin);
    for (let i = 0; i < f.length; i++) f[i] = Math.sin(i);
    inst.view(w, 9 * cin * cout).fill(0.01);
    const macs = P * 9 * cin * cout;
    const time = (fn) => {
      for (let i = 0; i < 3; i++) fn();
      const reps = 10;
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) fn();
      return (macs * reps) / ((performance.now() - t0) / 1000) / 1e9;
    };
    const fwd = time(() => inst.k.convForward(x, w, 0, y, N, H, W, cin, cout, 3, scratch, chunk));
    const grad = time(() => inst.k.convFilterGrad(x, y, dw, N, H, W, cin, cout, 3, scratch, chunk));
    console.log(`conv3x3 [${N},${H},${W},${cin}]→${cout} chunk ${String(chunk).padStart(4)}: forward ${fwd.toFixed(1)} GMAC/s, filter grad ${grad.toFixed(1)} GMAC/s`);
  }
}
