/**
 * The worker's tfjs backend, as `diffusionlab run`'s `backend: auto` picks it without tfjs-node:
 * tfjs-wasm, so whatever the fused kernels decline (loss weighting, a U-Net, a model too big for
 * them) still trains and samples on WebAssembly, with the kernels package's faster matMul gradient
 * installed as the runner installs it. Its `.wasm` binaries are this site's own files (Vite copies
 * them beside the bundle and rewrites these URLs), so nothing is fetched from another host. Should
 * wasm not start, tfjs's cpu backend takes over and the reason is shown. Worker-only: the `?url`
 * imports need Vite.
 */
import { type BackendName, registerTfjsGradients, useBackend } from '@diffusionlab/core';
import { installMatMulGradientFix } from '@diffusionlab/kernels';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The backend the worker runs on, and why (shown in the page's status line). */
export interface WorkerBackend {
  name: BackendName;
  note: string;
}

/**
 * Starts tfjs-wasm from the site's own binaries (the SIMD build where the browser has SIMD; the
 * threaded one only on a cross-origin-isolated page, which a plain static server is not), else
 * tfjs's cpu backend.
 */
export async function startWorkerBackend(): Promise<WorkerBackend> {
  try {
    // Absolute URLs: the worker's own URL is the base Vite resolved these against.
    const at = (u: string) => new URL(u, self.location.href).href;
    // Set here, not through useBackend's wasmPaths: that imports the package by name, which a bundle cannot resolve.
    setWasmPaths({ 'tfjs-backend-wasm.wasm': at(plainWasm), 'tfjs-backend-wasm-simd.wasm': at(simdWasm), 'tfjs-backend-wasm-threaded-simd.wasm': at(threadedWasm) });
    const name = await useBackend('wasm');
    await registerTfjsGradients();
    installMatMulGradientFix();
    return { name, note: 'tfjs wasm backend' };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const name = await useBackend('cpu');
    await registerTfjsGradients();
    return { name, note: `tfjs cpu backend (wasm did not start: ${why})` };
  }
}
