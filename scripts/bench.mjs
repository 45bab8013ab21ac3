// `pnpm bench`: the benchmark suite (not timed tests). Today it runs the kernels workloads
// (seed-train fused vs plain tfjs-wasm, seed-sample fused vs tfjs) and prints one line per
// workload; it needs `pnpm build` first. Extra arguments (e.g. --quick) are passed through.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kernels = join(root, 'packages', 'kernels');
const r = spawnSync(process.execPath, ['--import', './bench/node-extensionless.mjs', 'bench/train.mjs', ...process.argv.slice(2)], {
  cwd: kernels,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
