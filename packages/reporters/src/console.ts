/**
 * `console`: what the user watches in the terminal — a run header, a live progress bar (interactive
 * terminals only), the reference's per-epoch loss lines, a sampling line, a metrics table and where
 * the run was written.
 */
import { definePlugin, type PluginContext, type Reporter, withDefaults, z } from '@diffusionlab/core';

/** Options of the `console` reporter. */
export const consoleOptions = z
  .object({
    progress: z.enum(['auto', 'always', 'never']).default('auto').describe('Progress bar while training: auto = only in an interactive terminal, always, or never.'),
  })
  .strict();

/** Parsed options of the `console` reporter. */
export type ConsoleOptions = z.output<typeof consoleOptions>;

/** Where the progress bar goes and what time it is; injectable so tests see exactly what was drawn. */
export interface ConsoleIo {
  /** Raw terminal write (no newline added); the bar redraws itself with `\r`. */
  write: (s: string) => void;
  /** Milliseconds, for throttling redraws. */
  now: () => number;
}

/** Minimum time between two progress-bar redraws (≈10 per second), so drawing never slows training. */
export const BAR_INTERVAL_MS = 100;
const BAR_WIDTH = 24;
const CLEAR_LINE = '\r\x1b[K';

/** Formats seconds as m:ss or h:mm:ss for the ETA. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * Formats a metric value to 4 significant digits without trailing zeros (integers stay integers). Metric
 * details can be lists (per-dimension W1, mode fractions, a class histogram): each entry is formatted.
 */
export function formatNumber(v: number | readonly number[] | undefined): string {
  if (v === undefined) return '-';
  if (Array.isArray(v)) return v.map((x) => formatNumber(x)).join(', ');
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** One progress-bar line: bar, step/total, steps/s and ETA. */
export function progressLine(step: number, total: number, elapsedSeconds: number): string {
  const frac = total > 0 ? Math.min(1, step / total) : 0;
  const filled = Math.round(frac * BAR_WIDTH);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
  const rate = elapsedSeconds > 0 ? step / elapsedSeconds : 0;
  const eta = rate > 0 ? (total - step) / rate : Number.NaN;
  const pct = `${Math.floor(frac * 100)}`.padStart(3);
  return `${bar} ${pct}% ${step}/${total} steps  ${rate.toFixed(1)} steps/s  ETA ${formatDuration(eta)}`;
}

/** Rows [metric, value, noise floor] as text: every key `x` except the `xNoiseFloor` keys, which fill the third column ('-' if absent). */
export function metricRows(metrics: Record<string, number | readonly number[]>): [string, string, string][] {
  const isFloor = (k: string) => k.endsWith('NoiseFloor') && k.length > 'NoiseFloor'.length;
  return Object.keys(metrics)
    .filter((k) => !isFloor(k))
    .map((k) => [k, formatNumber(metrics[k]), formatNumber(metrics[`${k}NoiseFloor`])]);
}

/** The metrics table: one row per metric `x`, with its noise floor from `xNoiseFloor` when present. */
export function metricsTable(metrics: Record<string, number | readonly number[]>): string[] {
  const rows = metricRows(metrics);
  const head = ['metric', 'value', 'noise floor'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

/**
 * Builds the console reporter. `io` defaults to process.stdout and Date.now; lines other than the bar go
 * through `context.print`, after the bar's line has been cleared so the two never interleave.
 */
function buildConsoleReporter(options: ConsoleOptions, context: PluginContext, io: ConsoleIo = { write: (s) => process.stdout.write(s), now: () => Date.now() }): Reporter {
  const showBar = options.progress === 'always' || (options.progress === 'auto' && context.interactive);
  const warned = new Set<string>();
  let barShown = false;
  let lastDraw = Number.NEGATIVE_INFINITY;

  const print = (line: string) => {
    if (barShown) {
      io.write(CLEAR_LINE);
      barShown = false;
    }
    context.print(line);
  };

  return {
    name: 'console',
    onRunStart(e) {
      const T = e.schedule.numTrainTimesteps;
      const abT = e.schedule.alphasCumprod[T - 1];
      print(`diffusionlab: ${e.name}`);
      print(`  data shape [${e.dataShape.join(', ')}], ${e.parameterCount.toLocaleString('en-US')} parameters`);
      print(`  schedule ${e.schedule.name}, T = ${T}, ᾱ_T = ${formatNumber(abT)}`);
      print(`  training ${e.totalSteps} steps (${e.epochs} epochs)`);
      for (const w of e.warnings) {
        if (warned.has(w)) continue;
        warned.add(w);
        print(`warning: ${w}`);
      }
    },
    onTrainProgress(e) {
      if (!showBar) return;
      const now = io.now();
      const last = e.step >= e.totalSteps;
      if (!last && now - lastDraw < BAR_INTERVAL_MS) return;
      lastDraw = now;
      io.write(`${CLEAR_LINE}${progressLine(e.step, e.totalSteps, e.elapsedSeconds)}`);
      barShown = true;
    },
    onEpochEnd(e) {
      if (e.logged) print(`Epoch ${e.epoch}/${e.epochs}, Loss: ${e.meanLoss.toFixed(6)}`);
    },
    onSample(e) {
      print(`Sampled ${e.n} with ${e.sampler}: ${e.nfe} NFE in ${e.seconds.toFixed(2)} s`);
    },
    onEvaluate(e) {
      for (const line of metricsTable(e.metrics)) print(line);
    },
    onRunEnd(e) {
      print(`Run directory: ${e.runDir}`);
    },
  };
}

/** The `console` reporter plugin. */
export const consoleReporter = definePlugin({
  kind: 'reporter',
  name: 'console',
  description: 'Prints a run header, a progress bar (interactive terminals), the loss every logged epoch, sampling and metrics.',
  options: consoleOptions,
  create: (options, context) => buildConsoleReporter(options, context),
});

/**
 * The `console` reporter from options as a config writes them: the schema's defaults and checks apply, so
 * programs that skip the registry pass only what they change (`createConsoleReporter({ … })`).
 */
export const createConsoleReporter = withDefaults(consoleReporter.options, buildConsoleReporter, 'reporter');
