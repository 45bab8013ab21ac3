// `pnpm bench --compare` (issue 16): the PyTorch twins of the workloads that have one
// (scripts/bench/torch_twins.py), run in the same invocation before and after our workload, the
// ratio of our default path to them, and the printed table. PyTorch is optional: where the python
// cannot import torch the twins are skipped with one line and the bench goes on.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stats } from './lib.mjs';

const execFileAsync = promisify(execFile);

/** The python `--compare` runs unless --python or DIFFUSIONLAB_BENCH_PYTHON says otherwise (Debian's python3-torch lives there). */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/** The twins' script. */
export const TWIN_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'torch_twins.py');

/** PyTorch thread counts every twin runs at. */
export const TWIN_THREADS = [1, 2];

/**
 * The environment the twins run in: this one without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, so
 * the OpenBLAS under PyTorch picks its own kernel (those pins are for other tools on this machine).
 */
export function twinEnv(env = process.env) {
  const copy = { ...env };
  delete copy.OPENBLAS_CORETYPE;
  delete copy.OPENBLAS_L2_SIZE;
  return copy;
}

/** The first meaningful line of a failed child's output (the exception line of a Python traceback). */
function why(e) {
  const text = String(e?.stderr ?? '').trim();
  const lines = text.split('\n').filter((l) => l.trim());
  return lines.at(-1)?.trim() || String(e?.message ?? e).split('\n')[0];
}

/**
 * Whether `python` imports torch: `{ torch, threads }` when it does, `{ skipped }` with the reason
 * when it does not (a missing python, a missing torch, anything else). Never throws.
 */
export async function probeTorch(python) {
  try {
    const { stdout } = await execFileAsync(python, ['-c', 'import json, torch; print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}))'], {
      env: twinEnv(),
      timeout: 60_000,
    });
    const info = JSON.parse(stdout.trim().split('\n').at(-1));
    return { torch: info.torch, threads: info.threads };
  } catch (e) {
    if (e?.code === 'ENOENT') return { skipped: `${python} not found` };
    return { skipped: `${python} cannot import torch (${why(e)})` };
  }
}

/** Parses the twins' stdout: one JSON object a line (other lines are ignored). */
export function parseTwinOutput(stdout) {
  const out = [];
  for (const line of stdout.split('\n')) {
    const l = line.trim();
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l));
    } catch {
      // not a measurement line
    }
  }
  return out;
}

/**
 * Runs one twin: `python torch_twins.py <workload> --threads 1,2 --reps N …args`. Returns
 * `{ measurements }` or `{ error }` (never throws: a twin is optional).
 */
export async function runTwin(python, twin, reps, phase) {
  try {
    const { stdout } = await execFileAsync(python, [TWIN_SCRIPT, twin.workload, '--threads', TWIN_THREADS.join(','), '--reps', String(reps), ...twin.args], {
      env: twinEnv(),
      maxBuffer: 1 << 24,
    });
    return { measurements: parseTwinOutput(stdout).map((m) => ({ ...m, phase })) };
  } catch (e) {
    return { error: e?.code === 'ENOENT' ? `${python} not found` : why(e) };
  }
}

/** Higher is faster: a rate as it is, a time inverted. */
function speed(v, unit) {
  return unit === 's' ? 1 / v : v;
}

/**
 * Ours ÷ PyTorch as a speed ratio (above 1: ours faster), for any unit: rates divide, times divide
 * the other way. `ratio` is from the medians; `min` and `max` are the extremes over every pair of
 * repetitions (our slowest against their fastest, and the reverse).
 */
export function speedRatio(ours, twin, unit) {
  const o = { median: speed(ours.median, unit), lo: Math.min(speed(ours.min, unit), speed(ours.max, unit)), hi: Math.max(speed(ours.min, unit), speed(ours.max, unit)) };
  const t = { median: speed(twin.median, unit), lo: Math.min(speed(twin.min, unit), speed(twin.max, unit)), hi: Math.max(speed(twin.min, unit), speed(twin.max, unit)) };
  return { ratio: o.median / t.median, min: o.lo / t.hi, max: o.hi / t.lo };
}

const round = (v) => +v.toPrecision(5);

/**
 * The bench.json twin entries (one per name × case × thread count, the before and after runs
 * pooled) from the twins' measurements, in the order first seen.
 */
export function twinEntries(measurements) {
  const groups = new Map();
  for (const m of measurements) {
    const key = `${m.name}\u0000${m.case ?? ''}\u0000${m.threads}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(m);
  }
  return [...groups.values()].map((ms) => {
    const [first] = ms;
    const values = ms.map((m) => m.value);
    const cpu = ms.map((m) => m.cpuValue).filter((v) => typeof v === 'number');
    const phase = (p) => ms.filter((m) => m.phase === p).map((m) => round(m.value));
    return {
      name: first.name,
      backend: 'pytorch',
      path: `${first.case ? `torch.matmul ${first.case}, ` : ''}${first.threads} thread${first.threads > 1 ? 's' : ''}`,
      unit: first.unit,
      ...stats(values),
      reps: values.length,
      values: values.map(round),
      valuesBefore: phase('before'),
      valuesAfter: phase('after'),
      ...(cpu.length ? { cpuMedian: round(stats(cpu).median) } : {}),
      threads: first.threads,
      case: first.case ?? null,
      torch: first.torch,
      // what the figure times (training twins: `steps` steps after `warmupSteps` untimed ones)
      ...(first.timed ? { timed: first.timed, steps: first.steps, warmupSteps: first.warmupSteps } : {}),
    };
  });
}

/** Our entry a twin stands beside: the workload's default (its first entry), or the kernels row of a GEMM shape. */
function oursFor(entries, name, kase) {
  return kase ? entries.find((e) => e.name === name && e.path === `kernels ${kase}`) : entries.find((e) => e.name === name);
}

/**
 * One ratio row per twinned entry of ours: `{ name, case, backend, path, unit, ours, pytorch: {
 * [threads]: entry }, ratios: { [threads]: { ratio, min, max } } }`.
 */
export function compareRows(entries, twins) {
  const rows = [];
  for (const t of twins) {
    const ours = oursFor(entries, t.name, t.case);
    if (!ours) continue;
    let row = rows.find((r) => r.name === t.name && r.case === t.case);
    if (!row) {
      row = {
        name: t.name,
        case: t.case,
        backend: ours.backend,
        path: ours.path,
        unit: ours.unit,
        ours: {
          median: ours.median,
          min: ours.min,
          max: ours.max,
          reps: ours.reps,
          ...(ours.timed ? { timed: ours.timed, steps: ours.stepsPerRep, warmupSteps: ours.warmupSteps } : {}),
        },
        pytorch: {},
        ratios: {},
      };
      rows.push(row);
    }
    row.pytorch[t.threads] = t;
    row.ratios[t.threads] = speedRatio(ours, t, t.unit);
  }
  return rows;
}

/** A value in its unit, thousands separated, about three significant digits. */
export function fmtValue(v, unit) {
  if (unit === 's') return v < 10 ? `${(v * 1000).toFixed(1)} ms` : `${v.toFixed(2)} s`;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${unit}`;
}

function fmtRatio(r) {
  const f = (v) => v.toFixed(2);
  return `${f(r.ratio)}× (${f(r.min)}–${f(r.max)})`;
}

/** The twin's medians before and after ours, `a · b` (one of them alone when the other is missing). */
function beforeAfter(t) {
  const med = (vs) => (vs.length ? fmtValue(stats(vs).median, t.unit) : '—');
  return `${med(t.valuesBefore)} · ${med(t.valuesAfter)}`;
}

/** The printed comparison: a Markdown table, one row per twinned entry. */
export function formatCompareTable(rows, threads = TWIN_THREADS) {
  const head = ['workload', 'ours (default path)', ...threads.map((n) => `PyTorch ${n} thread${n > 1 ? 's' : ''} (before · after)`), ...threads.map((n) => `ours ÷ PyTorch ${n}T`)];
  const body = rows.map((r) => [
    r.case ? `${r.name} ${r.case}` : r.name,
    `${fmtValue(r.ours.median, r.unit)} (${r.backend} ${r.case ? 'kernels' : r.path})`,
    ...threads.map((n) => (r.pytorch[n] ? beforeAfter(r.pytorch[n]) : '—')),
    ...threads.map((n) => (r.ratios[n] ? fmtRatio(r.ratios[n]) : '—')),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)];
}

/** The legend printed under the table. */
export const COMPARE_LEGEND =
  'ours ÷ PyTorch: speed ratio (above 1: ours faster) from the medians, with the min–max over every pair of repetitions; PyTorch ran before and after ours (its medians: before · after)';

/**
 * The printed lines under the table saying what the training rows time: per twinned training
 * workload, ours and PyTorch's timed and warm-up steps (flagged where they differ, which would make
 * the ratio compare different things); none when no row is a training one.
 */
export function timingLines(rows) {
  const steps = (x) => (x?.timed === 'steps' ? `${x.steps} steps after ${x.warmupSteps} warm-up` : (x?.timed ?? 'unknown'));
  const parts = [];
  for (const r of rows.filter((row) => row.ours.timed || Object.values(row.pytorch).some((t) => t.timed))) {
    const twin = Object.values(r.pytorch)[0];
    const same = r.ours.timed === twin?.timed && r.ours.steps === twin?.steps && r.ours.warmupSteps === twin?.warmupSteps;
    parts.push(same ? `${r.name} ${steps(r.ours)}` : `${r.name} ours ${steps(r.ours)}, PyTorch ${steps(twin)} (MISMATCH: the ratio compares different work)`);
  }
  if (!parts.length) return [];
  return [
    `steps/s rows time steady-state optimizer steps only, on both sides: each repetition builds a fresh model, runs the warm-up steps untimed (model build, training-path setup — fused trainer, wasm instance, worker threads — and first-step costs fall there), then times the rest: ${parts.join('; ')}`,
  ];
}
