// The `pnpm bench` driver, apart from module loading so a test can run it on the packages' sources:
// option parsing, the workload loop, the printed lines and bench.json.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { formatLine } from './lib.mjs';
import { workloads } from './workloads.mjs';

/** The keys every bench.json entry has, and their types (the contract readers rely on). */
export const ENTRY_FIELDS = {
  name: 'string',
  backend: 'string',
  path: 'string',
  unit: 'string',
  median: 'number',
  min: 'number',
  max: 'number',
  numTensorsBefore: 'number',
  numTensorsAfter: 'number',
  reps: 'number',
};

/** Parses the command line (see scripts/bench.mjs); throws with the valid choices on bad input. */
export function parseBenchArgs(argv, root) {
  const o = { root, quick: false, only: null, out: join(root, 'bench.json'), reps: null, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--list') o.list = true;
    else if (a === '--only')
      o.only = value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a === '--out') o.out = resolve(value());
    else if (a === '--reps') {
      o.reps = Number(value());
      if (!Number.isInteger(o.reps) || o.reps < 1) throw new Error(`--reps must be a positive integer, got ${argv[i]}`);
    } else throw new Error(`unknown option ${a} (valid: --quick, --only a,b, --out FILE, --reps N, --list)`);
  }
  const names = workloads.map((w) => w.name);
  for (const n of o.only ?? []) {
    if (!names.includes(n)) throw new Error(`--only: unknown workload "${n}" (valid: ${names.join(', ')})`);
  }
  return o;
}

/**
 * Whether the `tensorflow` backend (@tensorflow/tfjs-node) loads, tried the way a run tries it;
 * returns null when it does, else why its rows are skipped.
 */
async function probeTensorflow(m) {
  try {
    await m.runner.setupBackend('tensorflow');
    return null;
  } catch (e) {
    const msg = String(e?.message ?? e);
    return /Cannot find (package|module)|ERR_MODULE_NOT_FOUND/.test(msg) ? 'tfjs-node not installed — see docs/tfjs-node-from-wheel.md' : msg.split('\n')[0];
  } finally {
    await m.runner.setupBackend('wasm');
  }
}

/**
 * Runs the selected workloads with modules `m` ({ tf, core, kernels, runner }), prints one line
 * per entry through `log`, writes bench.json to `o.out`, and returns the exit code.
 */
export async function runBench(m, o, log) {
  if (o.list) {
    for (const w of workloads) log(`${w.name.padEnd(24)} ${w.what}`);
    return 0;
  }
  const reps = o.reps ?? (o.quick ? 3 : 5);
  const selected = workloads.filter((w) => !o.only || o.only.includes(w.name));
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const start = performance.now();
  log(`pnpm bench${o.quick ? ' --quick' : ''}: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, tfjs ${m.tf.version_core}, load average ${load()}`);
  const tfSkip = await probeTensorflow(m);
  log(
    `tensorflow backend: ${tfSkip === null ? 'measured (@tensorflow/tfjs-node loads; backend auto takes it for models no fused path trains; its rows follow each default)' : `skipped: ${tfSkip}`}`,
  );
  const entries = [];
  for (const w of selected) {
    log('');
    log(`# ${w.name}: ${w.what}`);
    const rows = await w.run(m, { root: o.root, quick: o.quick, reps, tensorflow: tfSkip === null });
    for (const e of rows) log(formatLine(e));
    for (const n of w.notes ?? []) log(`  ${n}`);
    entries.push(...rows);
  }
  const seconds = (performance.now() - start) / 1000;
  const doc = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? null, node: process.version, tfjs: m.tf.version_core, loadAverageAtEnd: loadavg() },
    quick: o.quick,
    seconds: +seconds.toFixed(1),
    workloads: entries,
  };
  writeFileSync(o.out, `${JSON.stringify(doc, null, 2)}\n`);
  log('');
  log(`${entries.length} entries in ${seconds.toFixed(1)} s; load average ${load()}; wrote ${o.out}`);
  // the fused sampler's worker threads are unref'd, but stop them so the process ends at once
  await m.kernels.terminateDdpmWorkers();
  return 0;
}
