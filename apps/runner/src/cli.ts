/**
 * The `diffusionlab` command line: run, sample, sweep, validate and list.
 * Errors print one message with a hint and exit non-zero; nothing half-written is left looking complete.
 */
import { DiffusionLabError, formatAdvice, isDiffusionLabError, PLUGIN_KINDS, scheduleDiagnostics, z } from '@diffusionlab/core';
import { reporterFailure } from './failure.js';
import { userError } from './io-errors.js';
import { parseListKind } from './list-kind.js';
import { builtinRegistry } from './plugins.js';
import { loadExperiment } from './load.js';
import { instantiatePlugins, runExperiment, withSummaryReporter } from './run.js';
import { sampleRun } from './sample.js';
import { runSweep } from './sweep.js';
import { LAUNCHER_FLAGS, launcherFlagOptions, sweepLaunchFlags } from './sweep-flags.js';
import { runWorker } from './worker.js';
import { configAdvice } from './warnings.js';

const HELP: Record<string, string> = {
  main: `diffusionlab — diffusion-model experiments on TensorFlow.js

Usage:
  diffusionlab run <config> [key=value …] [--out DIR] [--force] [--resume]
  diffusionlab sample <run-dir> [key=value …] [--out DIR] [--force] [--trust | --plugin PKG …]
  diffusionlab sweep <config> key=a,b,c [key2=x,y …] [--jobs N] [--out DIR] [--force]
  diffusionlab sweep <config> key=loguniform(a,b) … --trials N [--seed S]
  diffusionlab worker --redis redis://host:port [--concurrency N]
  diffusionlab validate <config> [key=value …]
  diffusionlab list [kind]
  diffusionlab <command> --help

Any command takes --debug to print the stack trace of an error.

Configs are YAML, JSON or TypeScript (experiment.config.ts exporting defineExperiment({...})).

Examples:
  diffusionlab run examples/seed-1d.yaml
  diffusionlab run examples/seed-1d.yaml sampler.use=ddim sampler.steps=50 --out runs/ddim
  diffusionlab sample runs/seed-1d-20250101-120000 sampler.use=ddim sampler.steps=25
  diffusionlab sweep examples/seed-1d.yaml sampler.use=ddpm,ddim sampler.steps=20,100
  diffusionlab list sampler`,
  run: `diffusionlab run <config> [key=value …] [--out DIR] [--force] [--resume]

Trains the denoiser the config names, samples, evaluates and reports into a run directory
(default runs/<name>-<timestamp>). key=value overrides any config key, typed by the schema
(sampler.steps=20 is a number); a list value (a=x,y) is only for \`sweep\`.

Options:
  --out DIR   run directory (refused if it already holds a run, unless --force)
  --force     replace the run in --out (removes only the files diffusionlab wrote there, listed in
              .diffusionlab/manifest.json; a folder holding anything else is refused)
  --resume    continue the unfinished run in --out from its last checkpoint

Examples:
  diffusionlab run examples/seed-1d.yaml --out /tmp/seed
  diffusionlab run examples/seed-1d.yaml training.epochs=10 seed=1
  diffusionlab run experiment.config.ts schedule.use=cosine`,
  sample: `diffusionlab sample <run-dir | NAME-run.json> [key=value …] [--out DIR] [--force] [--trust | --plugin PKG …]

Draws new samples from a finished run's checkpoint — another sampler, step count, spacing, seed
or evaluation.samples — without retraining, and evaluates them. Writes samples.npy,
reference.npy, summary.json (with source: <run-dir>) and figures into a new sample directory
(default <run-dir>/samples/<sampler>-<steps>-<timestamp>); the run's own files are never touched.
Keys that would change the trained model (dataset.*, schedule.*, denoiser.*, training.*) are
refused with the reason. Only data is read from the run directory (config values, checkpoint,
arrays): a run whose config lists \`plugins:\` is refused unless you pass --trust or --plugin.
A packed run (NAME-run.json, the playground's "Download checkpoint") is unpacked into NAME-run/
beside it first, then sampled like a run directory.

Options:
  --out DIR     sample directory (refused if it already holds a run or samples, unless --force)
  --force       replace the sample directory in --out (only the files diffusionlab wrote there)
  --trust       load the plugin code the run's config names (only for run folders you trust)
  --plugin PKG  load this plugin package or path (from the working directory) instead; repeatable

Examples:
  diffusionlab sample runs/seed-1d-20250101-120000 sampler.use=ddim sampler.steps=25
  diffusionlab sample runs/seed sampler.use=euler sampler.timestepSpacing=trailing seed=3
  diffusionlab sample runs/seed evaluation.samples=5000 --out /tmp/seed-5k`,
  sweep: `diffusionlab sweep <config> key=a,b,c [key2=x,y …] [--jobs N] [--out DIR] [--force]

Runs the cartesian product of the listed values, one directory per point (named from its
values) under the sweep directory (default sweeps/<name>-<timestamp>), then writes sweep.csv,
sweep.json (one row per point: swept values, NFE, every metric and noise floor, training
seconds), sweep.png (each metric against NFE or the swept key), report.html, and prints a table.
Points that differ only in sampler.*, evaluation.* or reporters share one trained model: it is
trained once and the other points sample from its checkpoint. Every point is validated first.

Random search: an axis written as uniform(a,b), loguniform(a,b), int(a,b) or choice(a,b,…) is
drawn --trials times (seeded by --seed, so the same command draws the same points), crossed
with the list axes; sweep.png then shows each metric against each swept key.

Each point is a trial whose id is a hash of its resolved config. Running the same sweep again
with the same --out skips the trials that completed and runs only the rest (a finished sweep
runs nothing); trials.json records each trial's status, attempts and error.

Options:
  --jobs N          train up to N distinct models in parallel worker processes (default 1)
  --attempts N      start a failing trial up to N times before recording it failed (default 1)
  --launcher NAME   where trials run: local (default), bullmq (workers on Redis; see
                    diffusionlab worker --help), or a package exporting \`launchers\`
  --redis URL       bullmq: the Redis server (default redis://127.0.0.1:6379)
  --trials N        random search: how many points to draw
  --seed S          random search: seed of the draws (default 0)
  --out DIR         sweep directory (the same sweep there resumes; another is refused unless --force)
  --force           replace the sweep in --out

Examples:
  diffusionlab sweep examples/seed-1d.yaml sampler.use=ddpm,ddim sampler.steps=20,100
  diffusionlab sweep examples/seed-1d.yaml schedule.use=linear,cosine seed=0,1 --jobs 2
  diffusionlab sweep examples/seed-1d.yaml training.epochs=100 sampler.steps=10,25,50 --out sweeps/steps
  diffusionlab sweep examples/seed-1d.yaml 'training.learningRate=loguniform(1e-4,1e-2)' --trials 8 --seed 1`,
  worker: `diffusionlab worker --redis redis://host:port [--concurrency N] [--lock-seconds S]

Serves the trials of sweeps launched with --launcher bullmq on the same Redis, on this machine,
until Ctrl-C (which lets the trials in hand finish). Start one or more on any machine that can
reach Redis; no shared filesystem is needed: each trial's config, model and results travel
through Redis. Each trial runs in its own process. A worker killed mid-trial stops renewing its
lock, and after --lock-seconds another worker runs the trial again.

Options:
  --redis URL         the Redis server (default redis://127.0.0.1:6379)
  --concurrency N     trials run at once by this worker (default 1)
  --queue NAME        the queue (default diffusionlab; the sweep command's --queue)
  --lock-seconds S    how long a trial's lock lasts unrenewed (default 30)

Example:
  redis-server --port 6379 &
  diffusionlab worker --redis redis://127.0.0.1:6379 --concurrency 2`,
  validate: `diffusionlab validate <config> [key=value …]

Checks a config (every plugin's options included) without running it. Exit 0 when valid.

Example:
  diffusionlab validate examples/seed-1d.yaml sampler.steps=20`,
  list: `diffusionlab list [kind]

Lists every registered plugin with its description and options (type, default, allowed values).
Kinds: ${PLUGIN_KINDS.join(', ')} (singular or plural).

Examples:
  diffusionlab list
  diffusionlab list schedules`,
};

/** The flags each command accepts; anything else is an error rather than silently ignored. */
const COMMAND_FLAGS: Record<string, string[]> = {
  run: ['out', 'force', 'resume', 'help'],
  sample: ['out', 'force', 'trust', 'plugin', 'help'],
  sweep: ['out', 'force', 'trials', 'seed', 'launcher', ...LAUNCHER_FLAGS, 'help'],
  worker: ['launcher', ...LAUNCHER_FLAGS, 'help'],
  validate: ['help'],
  list: ['help'],
};

function checkFlags(cmd: string, flags: Record<string, string | boolean | string[]>): void {
  const allowed = COMMAND_FLAGS[cmd];
  for (const f of Object.keys(flags)) {
    if (!allowed.includes(f) && f !== 'debug') {
      throw new DiffusionLabError(`unknown option --${f} for \`${cmd}\``, { hint: `${cmd} accepts ${allowed.map((a) => `--${a}`).join(', ')}; see diffusionlab ${cmd} --help` });
    }
  }
}

/** Parsed command line: positionals, key=value overrides and flags. */
export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  overrides: string[];
  flags: Record<string, string | boolean | string[]>;
}

const VALUE_FLAGS = new Set(['out', 'plugin', 'launcher', 'trials', 'seed', ...LAUNCHER_FLAGS]);
/** Value flags that may be given more than once; their values are collected in a list. */
const LIST_FLAGS = new Set(['plugin']);

/** Splits argv into command, positionals, `key=value` overrides and `--flags`. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { command: undefined, positionals: [], overrides: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2);
      const set = (value: string) => {
        out.flags[k] = LIST_FLAGS.has(k) ? [...((out.flags[k] as string[] | undefined) ?? []), value] : value;
      };
      if (v !== undefined) set(v);
      else if (VALUE_FLAGS.has(k)) {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new DiffusionLabError(`--${k} needs a value`, { hint: `e.g. --${k} runs/my-run` });
        set(next);
        i++;
      } else out.flags[k] = true;
    } else if (a === '-h') out.flags.help = true;
    else if (out.command === undefined) out.command = a;
    else if (a.includes('=')) out.overrides.push(a);
    else out.positionals.push(a);
  }
  return out;
}

/** One line per option: name, type, default, allowed values and description, from the zod schema. */
export function describeOptions(schema: z.ZodType): { name: string; type: string; default: string; description: string }[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Record<string, unknown>>;
  };
  return Object.entries(json.properties ?? {}).map(([name, p]) => ({
    name,
    type: typeOf(p),
    default: p.default === undefined ? '' : JSON.stringify(p.default),
    description: typeof p.description === 'string' ? p.description : '',
  }));
}

function typeOf(p: Record<string, unknown>): string {
  if (Array.isArray(p.enum)) return p.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (p.const !== undefined) return JSON.stringify(p.const);
  const variants = (p.anyOf ?? p.oneOf) as Record<string, unknown>[] | undefined;
  if (variants) return variants.map(typeOf).join(' | ');
  if (p.type === 'array') return `${typeOf((p.items as Record<string, unknown>) ?? {})}[]`;
  if (p.type === 'integer') {
    // zod's int() adds ±Number.MAX_SAFE_INTEGER as bounds; they say nothing beyond "integer".
    const lo = integerBound(p.minimum) ?? (p.exclusiveMinimum !== undefined ? `>${p.exclusiveMinimum}` : undefined);
    return lo !== undefined ? `integer (min ${lo})` : 'integer';
  }
  return typeof p.type === 'string' ? p.type : 'any';
}

/** A JSON-schema bound worth printing: undefined for none or for zod's ±MAX_SAFE_INTEGER filler. */
function integerBound(v: unknown): unknown {
  return typeof v === 'number' && Math.abs(v) >= Number.MAX_SAFE_INTEGER ? undefined : v;
}

function printList(arg: string | undefined): void {
  const registry = builtinRegistry();
  const kind = parseListKind(arg);
  let lastKind = '';
  for (const p of registry.list(kind)) {
    if (p.kind !== lastKind) {
      process.stdout.write(`\n${p.kind}s\n`);
      lastKind = p.kind;
    }
    process.stdout.write(`  ${p.name} — ${p.description}  [${registry.originOf(p)}]\n`);
    for (const o of describeOptions(p.options)) {
      const def = o.default ? ` = ${o.default}` : '';
      process.stdout.write(`      ${o.name}: ${o.type}${def}${o.description ? `  — ${o.description}` : ''}\n`);
    }
  }
}

/** The fused training kernels when @diffusionlab/kernels loads; undefined otherwise (the plain tfjs path). */
export async function loadAccelerator() {
  try {
    const name = '@diffusionlab/kernels';
    const mod = await import(name);
    return mod.mlpTrainAccelerator;
  } catch {
    return undefined;
  }
}

function outFlag(args: ParsedArgs): string | undefined {
  const out = args.flags.out;
  if (out === true || out === '') throw new DiffusionLabError('--out needs a value', { hint: 'e.g. --out runs/my-run' });
  return typeof out === 'string' ? out : undefined;
}

function onePositional(args: ParsedArgs, cmd: string, what: string, example: string): string {
  const [first, ...rest] = args.positionals;
  if (!first) throw new DiffusionLabError(`${cmd} needs ${what}`, { hint: example });
  if (rest.length > 0) {
    throw new DiffusionLabError(`unexpected argument${rest.length > 1 ? 's' : ''} ${rest.map((r) => JSON.stringify(r)).join(' ')} after ${first}`, {
      hint: `overrides are key=value (e.g. sampler.steps=20); see diffusionlab ${cmd} --help`,
    });
  }
  return first;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  const cmd = args.command;
  if (cmd === undefined || cmd === 'help') {
    const topic = cmd === 'help' ? args.positionals[0] : undefined;
    process.stdout.write(`${(topic && HELP[topic]) || HELP.main}\n`);
    return cmd === undefined && !args.flags.help ? 1 : 0;
  }
  if (!(cmd in COMMAND_FLAGS)) {
    throw new DiffusionLabError(`unknown command "${cmd}"`, { hint: `Commands: ${Object.keys(COMMAND_FLAGS).join(', ')}. See diffusionlab --help.` });
  }
  if (args.flags.help) {
    process.stdout.write(`${HELP[cmd]}\n`);
    return 0;
  }
  checkFlags(cmd, args.flags);
  switch (cmd) {
    case 'run': {
      const config = onePositional(args, 'run', 'a config file', 'diffusionlab run examples/seed-1d.yaml');
      const loaded = await loadExperiment(config, args.overrides);
      const resolved = withSummaryReporter(loaded.resolved, loaded.registry);
      const result = await runExperiment(resolved, {
        out: outFlag(args),
        force: args.flags.force === true,
        resume: args.flags.resume === true,
        interactive: Boolean(process.stdout.isTTY),
        argv,
        overrides: args.overrides,
        configPath: loaded.configPath,
        accelerator: await loadAccelerator(),
      });
      const failed = reporterFailure(result);
      if (failed) throw failed;
      return 0;
    }
    case 'sample': {
      const runDir = onePositional(args, 'sample', 'a run directory', 'diffusionlab sample runs/seed-1d-20250101-120000 sampler.use=ddim sampler.steps=25');
      const result = await sampleRun(runDir, args.overrides, {
        out: outFlag(args),
        force: args.flags.force === true,
        trust: args.flags.trust === true,
        plugins: args.flags.plugin as string[] | undefined,
        interactive: Boolean(process.stdout.isTTY),
        argv,
        accelerator: await loadAccelerator(),
      });
      const failed = reporterFailure({ runDir: result.sampleDir, summary: result.summary });
      if (failed) throw failed;
      return 0;
    }
    case 'sweep': {
      const config = onePositional(args, 'sweep', 'a config file and at least one key=a,b axis', 'diffusionlab sweep examples/seed-1d.yaml sampler.steps=20,50,100');
      const jobsText = args.flags.jobs;
      const jobs = jobsText === undefined ? 1 : Number(jobsText);
      if (!Number.isInteger(jobs) || jobs < 1) throw new DiffusionLabError(`--jobs must be a positive integer, got ${JSON.stringify(jobsText)}`, { hint: 'e.g. --jobs 2' });
      const result = await runSweep(config, args.overrides, {
        out: outFlag(args),
        force: args.flags.force === true,
        jobs,
        ...sweepLaunchFlags(args.flags),
        accelerator: await loadAccelerator(),
      });
      if (result.failed > 0) {
        throw new DiffusionLabError(`${result.failed} of ${result.rows.length} sweep points failed (see the table and sweep.json)`, {
          hint: `the completed points are in ${result.sweepDir}`,
        });
      }
      return 0;
    }
    case 'worker': {
      await runWorker({
        launcher: typeof args.flags.launcher === 'string' ? args.flags.launcher : undefined,
        launcherOptions: launcherFlagOptions(args.flags),
        accelerator: await loadAccelerator(),
      });
      return 0;
    }
    case 'validate': {
      const config = onePositional(args, 'validate', 'a config file', 'diffusionlab validate examples/seed-1d.yaml');
      const loaded = await loadExperiment(config, args.overrides);
      const r = loaded.resolved;
      // The checks that need the plugins themselves (sampler.steps ≤ T, metrics that fit the data, …).
      const plugins = await instantiatePlugins(r, { seed: r.experiment.seed, print: () => {}, interactive: false });
      // Known-poor combinations and dropped options, each with its fix, before any work.
      for (const a of configAdvice(r, plugins, scheduleDiagnostics(plugins.schedule))) process.stdout.write(`warning: ${formatAdvice(a)}\n`);
      process.stdout.write(
        `${config} is valid: dataset ${r.dataset.use}, schedule ${r.schedule.use}, denoiser ${r.denoiser.use}, sampler ${r.sampler.use}, ` +
          `metrics ${r.metrics.map((m) => m.use).join(', ')}, reporters ${r.reporters.map((m) => m.use).join(', ')}\n`,
      );
      return 0;
    }
    default:
      printList(args.positionals[0]);
      return 0;
  }
}

/**
 * Formats an error for the terminal: the message, then the hint — an OS error (a full disk, a
 * read-only folder) as one line naming the file. `debug` (`--debug`) adds the stack traces.
 */
export function formatError(e: unknown, debug = false): string {
  const u = userError(e);
  if (isDiffusionLabError(u)) {
    const cause = (u as { cause?: unknown }).cause;
    const trace = debug ? `\n${u.stack}${cause instanceof Error ? `\ncaused by: ${cause.stack}` : ''}` : '';
    return `error: ${u.message}${u.hint ? `\nhint: ${u.hint}` : ''}${trace}`;
  }
  return `error: ${(u as Error)?.stack ?? String(u)}`;
}
