// A static site: relative asset paths (it runs from any folder or file server), module workers, and
// nothing fetched at run time (the kernels' wasm is inlined in their JavaScript).
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  preview: { host: '127.0.0.1' },
  server: { host: '127.0.0.1' },
});
