/**
 * The `diffusionlab` command line: run, validate and list (sample and sweep build on run).
 * Errors print one message with a hint and exit non-zero; nothing half-written is left looking complete.
 */
import { DiffusionLabError, PLUGIN_KINDS, type PluginKind, z } from '@diffusionlab/core';
import { builtinRegistry } from './plugins.js';
import { loadExperiment } from './load.js';
import { runExperiment, withSummaryReporter } from './run.js';

const HELP: Record<string, string> = {
  main: `diffusionlab — diffusion-model experiments on TensorFlow.js

Usage:
  diffusionlab run <config> [key=value …] [--out DIR] [--force]
  diffusionlab validate <config> [key=value …]
  diffusionlab list [kind]
  diffusionlab <command> --help

Examples:
  diffusionlab run examples/seed-1d.yaml
  diffusionlab run examples/seed-1d.yaml sampler.use=ddim sampler.steps=50 --out runs/ddim
  diffusionlab list sampler`,
  run: `diffusionlab run <config> [key=value …] [--out DIR] [--force]

Trains the denoiser the config names, samples, evaluates and reports into a run directory
(default runs/<name>-<timestamp>). key=value overrides any config key, typed by the schema.

Options:
  --out DIR   run directory (refused if it already holds a run, unless --force)
  --force     replace the run in --out

Examples:
  diffusionlab run examples/seed-1d.yaml --out /tmp/seed
  diffusionlab run examples/seed-1d.yaml training.epochs=10 seed=1`,
  validate: `diffusionlab validate <config> [key=value …]

Checks a config (every plugin's options included) without running it. Exit 0 when valid.

Example:
  diffusionlab validate examples/seed-1d.yaml sampler.steps=20`,
  list: `diffusionlab list [kind]

Lists every registered plugin with its description and options (type, default, allowed values).
Kinds: ${PLUGIN_KINDS.join(', ')}.

Example:
  diffusionlab list schedule`,
};

/** Parsed command line: positionals, key=value overrides and flags. */
export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  overrides: string[];
  flags: Record<string, string | boolean>;
}

const VALUE_FLAGS = new Set(['out', 'jobs']);

/** Splits argv into command, positionals, `key=value` overrides and `--flags`. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { command: undefined, positionals: [], overrides: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2);
      if (v !== undefined) out.flags[k] = v;
      else if (VALUE_FLAGS.has(k)) {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new DiffusionLabError(`--${k} needs a value`, { hint: `e.g. --${k} runs/my-run` });
        out.flags[k] = next;
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
    const lo = p.minimum ?? (p.exclusiveMinimum !== undefined ? `>${p.exclusiveMinimum}` : undefined);
    return lo !== undefined ? `integer (min ${lo})` : 'integer';
  }
  return typeof p.type === 'string' ? p.type : 'any';
}

function printList(kind: string | undefined): void {
  const registry = builtinRegistry();
  if (kind !== undefined && !PLUGIN_KINDS.includes(kind as PluginKind)) {
    throw new DiffusionLabError(`unknown plugin kind "${kind}"`, { hint: `Kinds: ${PLUGIN_KINDS.join(', ')}` });
  }
  let lastKind = '';
  for (const p of registry.list(kind as PluginKind | undefined)) {
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

async function loadAccelerator() {
  try {
    const name = '@diffusionlab/kernels';
    const mod = await import(name);
    return mod.mlpTrainAccelerator;
  } catch {
    return undefined;
  }
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  const cmd = args.command;
  if (cmd === undefined || cmd === 'help' || (cmd === undefined && args.flags.help)) {
    process.stdout.write(`${HELP.main}\n`);
    return cmd === undefined && !args.flags.help ? 1 : 0;
  }
  if (args.flags.help) {
    process.stdout.write(`${HELP[cmd] ?? HELP.main}\n`);
    return 0;
  }
  switch (cmd) {
    case 'run': {
      const config = args.positionals[0];
      if (!config) throw new DiffusionLabError('run needs a config file', { hint: 'diffusionlab run examples/seed-1d.yaml' });
      const loaded = await loadExperiment(config, args.overrides);
      const resolved = withSummaryReporter(loaded.resolved, loaded.registry);
      const result = await runExperiment(resolved, {
        out: typeof args.flags.out === 'string' ? args.flags.out : undefined,
        force: args.flags.force === true,
        interactive: Boolean(process.stdout.isTTY),
        argv,
        overrides: args.overrides,
        configPath: loaded.configPath,
        accelerator: await loadAccelerator(),
      });
      void result;
      return 0;
    }
    case 'validate': {
      const config = args.positionals[0];
      if (!config) throw new DiffusionLabError('validate needs a config file', { hint: 'diffusionlab validate examples/seed-1d.yaml' });
      const loaded = await loadExperiment(config, args.overrides);
      const r = loaded.resolved;
      process.stdout.write(
        `${config} is valid: dataset ${r.dataset.use}, schedule ${r.schedule.use}, denoiser ${r.denoiser.use}, sampler ${r.sampler.use}, ` +
          `metrics ${r.metrics.map((m) => m.use).join(', ')}, reporters ${r.reporters.map((m) => m.use).join(', ')}\n`,
      );
      return 0;
    }
    case 'list':
      printList(args.positionals[0]);
      return 0;
    default:
      throw new DiffusionLabError(`unknown command "${cmd}"`, { hint: 'Commands: run, validate, list. See diffusionlab --help.' });
  }
}

/** Formats an error for the terminal: the message, then the hint. */
export function formatError(e: unknown): string {
  if (e instanceof DiffusionLabError) return `error: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`;
  return `error: ${(e as Error)?.stack ?? String(e)}`;
}

