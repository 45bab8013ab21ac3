// The `pnpm bench` driver, apart from module loading so a test can run it on the packages' sources:
// option parsing, the workload loop, the printed lines and bench.json.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { COMPARE_LEGEND, compareRows, DEFAULT_PYTHON, fmtValue, formatCompareTable, probeTorch, runTwin, TWIN_THREADS, timingLines, twinEntries } from './compare.mjs';
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

/** Printed after the workloads when any training entry ran: what their steps/s figures time. */
export const TRAIN_TIMING_LINE =
  "training rows (steps/s; timed: 'steps' in bench.json): each repetition is one train() call on a fresh model whose first warmupSteps steps (⌈stepsPerRep/8⌉) run untimed; the figure is stepsPerRep ÷ the time from the end of the last warm-up step to the end of the last step, so model build, training-path setup and warm-up are excluded";

/**
 * Parses the command line (see scripts/bench.mjs); throws with the valid choices on bad input. The
 * twins' python is --python, else DIFFUSIONLAB_BENCH_PYTHON in `env`, else /usr/bin/python3.
 */
export function parseBenchArgs(argv, root, env = process.env) {
  const o = { root, quick: false, only: null, out: join(root, 'bench.json'), reps: null, list: false, compare: false, python: env.DIFFUSIONLAB_BENCH_PYTHON || DEFAULT_PYTHON };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--list') o.list = true;
    else if (a === '--compare') o.compare = true;
    else if (a === '--python') o.python = value();
    else if (a === '--only')
      o.only = value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a === '--out') o.out = resolve(value());
    else if (a === '--reps') {
      o.reps = Number(value());
      if (!Number.isInteger(o.reps) || o.reps < 1) throw new Error(`--reps must be a positive integer, got ${argv[i]}`);
    } else throw new Error(`unknown option ${a} (valid: --quick, --only a,b, --out FILE, --reps N, --compare, --python PATH, --list)`);
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
    for (const w of workloads) log(`${w.name.padEnd(24)} ${w.what}${w.twin ? ' [PyTorch twin]' : ''}`);
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
  // --compare: the PyTorch twins, optional — a python without torch skips them with one line
  let torch = null;
  if (o.compare) {
    torch = await probeTorch(o.python);
    const twinned = selected.filter((w) => w.twin).map((w) => w.name);
    if (torch.skipped) log(`PyTorch twins: skipped: ${torch.skipped}; the bench runs without them`);
    else if (twinned.length === 0)
      log(
        `PyTorch twins: none of the selected workloads has one (twins: ${workloads
          .filter((w) => w.twin)
          .map((w) => w.name)
          .join(', ')})`,
      );
    else
      log(`PyTorch twins: torch ${torch.torch} (${o.python}), ${TWIN_THREADS.join(' and ')} threads, ${reps} repetitions before and ${reps} after each of ${twinned.join(', ')}`);
  }
  const compareOn = o.compare && !torch?.skipped;
  const entries = [];
  const measurements = [];
  const twinErrors = [];
  for (const w of selected) {
    log('');
    log(`# ${w.name}: ${w.what}`);
    const opts = { root: o.root, quick: o.quick, reps, tensorflow: tfSkip === null };
    const twin = compareOn && w.twin ? await w.twin(opts) : null;
    const runTwinPhase = async (phase) => {
      const res = await runTwin(o.python, twin, reps, phase);
      if (res.error) {
        log(`  PyTorch twin (${phase}): failed: ${res.error}`);
        twinErrors.push({ workload: w.name, phase, error: res.error });
      } else measurements.push(...res.measurements);
      return res.measurements ?? [];
    };
    // the twin before and after ours, so load drift over our run shows in its two medians
    const mine = twin ? [...(await runTwinPhase('before'))] : [];
    const rows = await w.run(m, opts);
    for (const e of rows) log(formatLine(e));
    if (twin) {
      mine.push(...(await runTwinPhase('after')));
      const list = (vs, unit) => vs.map((v) => fmtValue(v, unit)).join(', ') || '—';
      for (const t of twinEntries(mine)) log(formatLine({ ...t, note: `before ${list(t.valuesBefore, t.unit)}; after ${list(t.valuesAfter, t.unit)}` }));
    }
    for (const n of w.notes ?? []) log(`  ${n}`);
    entries.push(...rows);
  }
  if (entries.some((e) => e.timed === 'steps')) {
    log('');
    log(TRAIN_TIMING_LINE);
  }
  let compare;
  if (o.compare) {
    const twins = twinEntries(measurements);
    const rows = compareRows(entries, twins);
    compare = {
      python: o.python,
      torch: torch.torch ?? null,
      skipped: torch.skipped ?? null,
      threads: TWIN_THREADS,
      twins,
      ratios: rows.map((r) => ({ name: r.name, case: r.case, backend: r.backend, path: r.path, unit: r.unit, ours: r.ours, ratios: r.ratios })),
      timing: timingLines(rows),
      errors: twinErrors,
    };
    if (rows.length) {
      log('');
      log(`# ours against PyTorch ${torch.torch} (ours: ${reps} repetition${reps > 1 ? 's' : ''}; PyTorch: ${reps} before and ${reps} after)`);
      for (const l of formatCompareTable(rows)) log(l);
      log(COMPARE_LEGEND);
      for (const l of timingLines(rows)) log(l);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const doc = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? null, node: process.version, tfjs: m.tf.version_core, loadAverageAtEnd: loadavg() },
    quick: o.quick,
    seconds: +seconds.toFixed(1),
    workloads: entries,
    ...(compare ? { compare } : {}),
  };
  writeFileSync(o.out, `${JSON.stringify(doc, null, 2)}\n`);
  log('');
  log(`${entries.length} entries in ${seconds.toFixed(1)} s; load average ${load()}; wrote ${o.out}`);
  // the fused sampler's worker threads are unref'd, but stop them so the process ends at once
  await m.kernels.terminateDdpmWorkers();
  return 0;
}
