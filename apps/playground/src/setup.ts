/**
 * A playground setup: the plugins chosen for each slot with their options, the training options
 * and the evaluation, as plain data the page edits, the worker runs and the exporter writes out as
 * a `diffusionlab run` config. Nothing here reads a plugin's name or option keys.
 */
import { parse, stringify } from 'yaml';
import type { SlotKind } from './catalog.js';

/** One chosen plugin: its name and the options the user set (keys left out take the schema's defaults). */
export interface SlotChoice {
  use: string;
  options: Record<string, unknown>;
}

/** Everything the page trains and samples from. */
export interface Setup {
  /** Names the exported experiment (and so its run folder). */
  name: string;
  seed: number;
  dataset: SlotChoice;
  schedule: SlotChoice;
  denoiser: SlotChoice;
  sampler: SlotChoice;
  /** Options of core's `trainingSchema` the user set. */
  training: Record<string, unknown>;
  /** Samples drawn for the figure and the metric. */
  samples: number;
  metric: SlotChoice;
}

/** The slots of a setup that hold a plugin choice. */
export const SLOT_KINDS: readonly SlotKind[] = ['dataset', 'schedule', 'denoiser', 'sampler', 'metric'];

/**
 * The reference example (examples/seed-1d.yaml: DESIGN.md's algorithm) as a setup: the page opens
 * on it, so the first "Train" reproduces the CLI's seed run.
 */
export const SEED_SETUP: Setup = {
  name: 'seed-1d',
  seed: 42,
  dataset: {
    use: 'gaussian-mixture',
    options: {
      size: 1000,
      components: [
        { mean: -2, std: 0.5 },
        { mean: 2, std: 0.5 },
      ],
    },
  },
  schedule: { use: 'linear', options: { timesteps: 100, betaStart: 0.0001, betaEnd: 0.02 } },
  denoiser: { use: 'seed-mlp', options: { hidden: 128 } },
  sampler: { use: 'ddpm', options: {} },
  training: { epochs: 1000, batchSize: 32, learningRate: 0.001, predictionType: 'epsilon' },
  samples: 1000,
  metric: { use: 'w1', options: {} },
};

/** Drops keys whose value is undefined (a cleared form field), so the schema's default applies. */
function defined(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/** A plugin slot as a config writes it: `{ use, …options }`. */
function slot(choice: SlotChoice): Record<string, unknown> {
  return { use: choice.use, ...defined(choice.options) };
}

/** The setup as a `diffusionlab run` config object (experimentSchema's shape). */
export function toExperimentConfig(setup: Setup): Record<string, unknown> {
  const metric = Object.keys(defined(setup.metric.options)).length > 0 ? slot(setup.metric) : setup.metric.use;
  return {
    name: setup.name,
    seed: setup.seed,
    backend: 'auto',
    dataset: slot(setup.dataset),
    schedule: slot(setup.schedule),
    denoiser: slot(setup.denoiser),
    sampler: slot(setup.sampler),
    training: defined(setup.training),
    evaluation: { samples: setup.samples, metrics: [metric] },
    reporters: ['console', 'histogram', 'loss', 'summary'],
  };
}

/**
 * The setup as YAML text that `diffusionlab run <file>` accepts, with a header saying where it came
 * from and any `notes` (e.g. which data file to save next to it).
 */
export function toExperimentYaml(setup: Setup, notes: readonly string[] = []): string {
  const header = [`Exported from the diffusionlab playground. Run it with: diffusionlab run ${setup.name}.yaml`, ...notes].map((l) => `# ${l}\n`).join('');
  return `${header}${stringify(toExperimentConfig(setup))}`;
}

/** A slot as a config writes it (`name` or `{ use, …options }`) as a choice; throws naming the key when malformed. */
function choiceOf(value: unknown, key: string): SlotChoice {
  if (typeof value === 'string' && value !== '') return { use: value, options: {} };
  if (value && typeof value === 'object' && !Array.isArray(value) && typeof (value as { use?: unknown }).use === 'string') {
    const { use, ...options } = value as { use: string } & Record<string, unknown>;
    return { use, options };
  }
  throw new Error(`${key}: expected { use: <plugin name>, …options }, got ${JSON.stringify(value)}`);
}

/**
 * A `diffusionlab run` config (the parsed YAML or JSON) as a setup: the inverse of
 * {@link toExperimentConfig}. Keys the page has no use for (backend, reporters, `extends`, plugin
 * packages) are left out; the first metric is the one the page shows. Plugin names are checked by the
 * caller against the browser's catalog.
 */
export function fromExperimentConfig(raw: unknown, base: Setup = SEED_SETUP): Setup {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('The config is not a YAML/JSON mapping of keys (name, dataset, schedule, …).');
  const c = raw as Record<string, unknown>;
  if (c.extends !== undefined) throw new Error('extends: the playground cannot read a base file; paste the merged config (`diffusionlab validate --print`) instead.');
  const evaluation = (c.evaluation ?? {}) as { samples?: unknown; metrics?: unknown[] };
  const training = c.training ?? {};
  if (typeof training !== 'object' || Array.isArray(training)) throw new Error('training: expected a mapping of training options');
  return {
    name: typeof c.name === 'string' ? c.name : base.name,
    seed: typeof c.seed === 'number' ? c.seed : 0,
    dataset: choiceOf(c.dataset, 'dataset'),
    schedule: choiceOf(c.schedule, 'schedule'),
    denoiser: choiceOf(c.denoiser, 'denoiser'),
    sampler: choiceOf(c.sampler, 'sampler'),
    training: { ...(training as Record<string, unknown>) },
    samples: typeof evaluation.samples === 'number' ? evaluation.samples : 1000,
    metric: Array.isArray(evaluation.metrics) && evaluation.metrics.length > 0 ? choiceOf(evaluation.metrics[0], 'evaluation.metrics[0]') : { use: 'w1', options: {} },
  };
}

/** A config file's text (YAML, or JSON, which is YAML) as a setup; a syntax error names the file and the line. */
export function fromExperimentYaml(text: string, file = 'the config'): Setup {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  return fromExperimentConfig(raw);
}
