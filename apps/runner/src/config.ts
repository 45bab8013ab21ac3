/**
 * Config files: read YAML or JSON, merge `extends:` bases, apply `key=value` overrides, and
 * validate the whole thing — every plugin's options included — before any work starts.
 */
import { existsSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { type AnyPluginDefinition, ConfigError, type ConfigIssue, type PluginKind, type PluginRegistry, zodIssues } from '@diffusionlab/core';
import { isConfigError } from '@diffusionlab/core';
import YAML from 'yaml';
import { checkNoInheritedKey, type DroppedOption, markExplicit, markSwitch, mergeSwitchedSlot, parseWithInherited, splitSlot, switchesPlugin } from './inherit.js';
import { checkConfigValue, checkKeyName, checkLooksLikeConfig, checkTextDepth, MAX_YAML_ALIASES, readConfigText } from './safe-parse.js';
import { type Experiment, experimentSchema } from './schema.js';
import { isTsConfigFile, loadTsConfig } from './ts-config.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge for `extends`: objects merge key by key, everything else (arrays included) is replaced. */
export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    // A plugin slot that switches plugin keeps the base's options, marked inherited: resolution drops those the new plugin does not accept.
    if (switchesPlugin(b, v)) out[k] = mergeSwitchedSlot(b as Json, v as Json);
    else if (isObject(b) && isObject(v)) out[k] = deepMerge(b, v);
    else out[k] = v;
  }
  return out;
}

/** Parses one file's text as YAML or JSON; errors carry the file and line. */
export function parseConfigText(text: string, file: string): Json {
  if (text.trim() === '') throw new ConfigError({ path: '', message: `config file ${file} is empty` });
  checkTextDepth(text, file);
  let value: unknown;
  if (extname(file).toLowerCase() === '.json') {
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new ConfigError({ path: '', message: `${file} is not valid JSON: ${(e as Error).message}` });
    }
  } else {
    const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const err = doc.errors[0];
      const pos = err.linePos?.[0];
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      throw new ConfigError({ path: '', message: `${file} is not valid YAML${where}: ${err.message.split('\n')[0]}` });
    }
    try {
      value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (e) {
      throw new ConfigError({ path: '', message: `${file} cannot be expanded: ${(e as Error).message} (over ${MAX_YAML_ALIASES} alias uses; write the values out)` });
    }
  }
  if (!isObject(value))
    throw new ConfigError({ path: '', message: `${file} must contain a mapping of keys (name, dataset, schedule, …), not ${Array.isArray(value) ? 'a list' : typeof value}` });
  checkConfigValue(value, file);
  checkLooksLikeConfig(value, file, Object.keys(experimentSchema.shape));
  return value;
}

/** Reads a config and its `extends:` chain (relative to each file); detects cycles. */
export function readConfigFile(file: string, seen: string[] = []): Json {
  const abs = resolve(file);
  if (seen.includes(abs)) throw new ConfigError({ path: 'extends', message: `extends cycle: ${[...seen, abs].join(' → ')}` });
  if (!existsSync(abs)) {
    throw new ConfigError({ path: seen.length ? 'extends' : '', message: `config file not found: ${file}` });
  }
  const text = readConfigText(abs, file, seen.length ? 'extends' : '');
  const own = isTsConfigFile(abs) ? loadTsConfig(abs) : parseConfigText(text, file);
  checkNoInheritedKey(own, file);
  resolveRelativePaths(own, dirname(abs));
  if (typeof own.extends !== 'string') return own;
  const basePath = isAbsolute(own.extends) ? own.extends : resolve(dirname(abs), own.extends);
  const base = readConfigFile(basePath, [...seen, abs]);
  const { extends: _drop, ...rest } = own;
  const { extends: _baseExt, ...baseRest } = base;
  return deepMerge(baseRest, rest);
}

/** Plugin options named `path`, `file` or `dir` are files relative to the config that names them. */
function resolveRelativePaths(cfg: Json, dir: string): void {
  for (const v of Object.values(cfg)) {
    if (isObject(v) && typeof v.use === 'string') {
      for (const key of ['path', 'file', 'dir']) {
        const p = v[key];
        if (typeof p === 'string' && p !== '' && !isAbsolute(p)) v[key] = resolve(dir, p);
      }
    }
  }
}

/** Parses an override value as a YAML scalar or flow collection: `20` → 20, `true` → true, `[1,2]` → array. */
export function parseOverrideValue(text: string): unknown {
  if (text === '') return '';
  try {
    return YAML.parse(text);
  } catch {
    return text;
  }
}

/** One `key=value` pair; lists (`a=x,y`) only where `allowLists` (sweeps). */
export interface Override {
  key: string;
  values: unknown[];
}

/** Parses `a.b=value` arguments; `a.b=x,y` is a sweep axis and refused unless `allowLists`. */
export function parseOverrides(args: readonly string[], allowLists: boolean): Override[] {
  return args.map((arg) => {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new ConfigError({ path: arg, message: 'expected key=value (for example sampler.steps=50)' });
    const key = arg.slice(0, eq).trim();
    const raw = arg.slice(eq + 1);
    if (!/^[A-Za-z_][\w-]*(\.[\w-]+|\[\d+\])*$/.test(key)) throw new ConfigError({ path: key, message: 'not a valid key path (use dots, e.g. sampler.steps)' });
    for (const seg of key.split(/[.[\]]/)) checkKeyName(seg, key);
    const isFlow = raw.trim().startsWith('[') || raw.trim().startsWith('{');
    const parts = !isFlow && raw.includes(',') ? raw.split(',') : [raw];
    if (parts.length > 1 && !allowLists) {
      throw new ConfigError({ path: key, message: `"${raw}" is a list of values, which only \`diffusionlab sweep\` accepts; pass one value to \`run\`` });
    }
    return { key, values: parts.map((p) => parseOverrideValue(p.trim())) };
  });
}

/** Sets `a.b[2].c` in a nested object, creating objects on the way. */
export function setPath(obj: Json, key: string, value: unknown): void {
  const segs = key.split('.').flatMap((s) => s.split(/\[(\d+)\]/).filter((x) => x !== ''));
  for (const s of segs) checkKeyName(s, key);
  let cur: Json | unknown[] = obj;
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i];
    const container = cur as Json;
    checkIndex(cur, s, key);
    if (isObject(container)) markExplicit(container, s);
    let next = Object.hasOwn(container, s) ? container[s] : undefined;
    if (typeof next !== 'object' || next === null) {
      next = /^\d+$/.test(segs[i + 1]) ? [] : {};
      container[s] = next;
    }
    cur = next as Json;
  }
  const last = segs[segs.length - 1];
  checkIndex(cur, last, key);
  // Switching plugin through an override keeps the options set so far, marked inherited (see inherit.ts).
  if (last === 'use' && isObject(cur)) markSwitch(cur, value);
  else if (isObject(cur)) markExplicit(cur, last);
  (cur as Json)[last] = value;
}

/** Refuses a list index past the end of the list (one past appends), so `reporters[99999999]` cannot allocate a huge array. */
function checkIndex(container: Json | unknown[], seg: string, key: string): void {
  if (!/^\d+$/.test(seg)) return;
  const length = Array.isArray(container) ? container.length : 0;
  if (Number(seg) > length) {
    throw new ConfigError({
      path: key,
      message: `index ${seg} is past the end of the list, which has ${length} entr${length === 1 ? 'y' : 'ies'} (use 0–${length}; ${length} appends)`,
    });
  }
}

/** Applies single-valued overrides to a raw config (a copy). */
export function applyOverrides(raw: Json, overrides: readonly Override[]): Json {
  const copy = structuredClone(raw);
  for (const o of overrides) {
    if (o.values.length !== 1) throw new ConfigError({ path: o.key, message: 'expected one value' });
    setPath(copy, o.key, o.values[0]);
  }
  return copy;
}

/** A plugin slot after validation: the plugin and its fully-defaulted options. */
export interface ResolvedSlot {
  use: string;
  def: AnyPluginDefinition;
  options: Record<string, unknown>;
  path: string;
}

/** A validated experiment: schema-checked top level plus resolved plugin slots. */
export interface ResolvedExperiment {
  experiment: Experiment;
  dataset: ResolvedSlot;
  schedule: ResolvedSlot;
  denoiser: ResolvedSlot;
  sampler: ResolvedSlot;
  metrics: ResolvedSlot[];
  reporters: ResolvedSlot[];
  /** Options dropped because a `use` switch (override or `extends`) chose a plugin that does not accept them. */
  droppedOptions?: DroppedOption[];
  /**
   * `sampler.guidance`, the classifier-free guidance scale w of a conditional model: a key of the
   * sampler slot that every sampler shares, so the runner takes it out before the sampler's own
   * options are parsed. Absent: w = 1 (plain conditional).
   */
  guidance?: number;
  /**
   * `sampler.autoguidance`, the autoguidance weight w (Karras et al. 2024): the model is steered away
   * from its own snapshot saved at `training.guideSnapshotStep`. Like `guidance`, a key every sampler
   * shares, taken out of the slot. Absent: no guide.
   */
  autoguidance?: number;
}

/** What the sampler-wide keys ask of a scale: its meaning, for the error message. */
const SCALE_KEYS = {
  guidance: '1 = plain conditional, 0 = unconditional, > 1 = guided',
  autoguidance: '1 = the model alone, 0 = its guide snapshot alone, > 1 = guided; Karras et al. 2024 use 1.5–3',
} as const;

/**
 * Takes the sampler-wide scales (`guidance`, `autoguidance`) out of the sampler slot, so the sampler's
 * own options parse without them (see {@link ResolvedExperiment.guidance}); a bad value is an issue at
 * `sampler.<key>`.
 */
function takeScales(slot: Json, issues: ConfigIssue[]): { slot: Json; guidance?: number; autoguidance?: number } {
  const rest: Json = { ...slot };
  const out: { guidance?: number; autoguidance?: number } = {};
  for (const [key, meaning] of Object.entries(SCALE_KEYS) as [keyof typeof SCALE_KEYS, string][]) {
    if (!(key in rest)) continue;
    const value = rest[key];
    delete rest[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      issues.push({ path: `sampler.${key}`, message: `must be a finite number ≥ 0 (${meaning}), got ${JSON.stringify(value)}` });
      continue;
    }
    out[key] = value;
  }
  return { slot: rest, ...out };
}

function resolveSlot(registry: PluginRegistry, kind: PluginKind, slot: unknown, path: string, issues: ConfigIssue[], dropped: DroppedOption[] = []): ResolvedSlot | null {
  const obj = typeof slot === 'string' ? { use: slot } : (slot as Json);
  const split = splitSlot(obj);
  const use = split.use;
  let def: AnyPluginDefinition;
  try {
    def = registry.get(kind, use, `${path}.use`);
  } catch (e) {
    if (isConfigError(e)) issues.push(...e.issues);
    else throw e;
    return null;
  }
  const parsed = parseWithInherited(def, kind, registry, split, path);
  if (!parsed.success) {
    issues.push(...zodIssues(parsed.error, path, def.options));
    return null;
  }
  dropped.push(...parsed.dropped);
  return { use, def, options: parsed.data as Record<string, unknown>, path };
}

/** Validates a raw config completely; throws one ConfigError listing every problem. */
export function resolveExperiment(raw: Json, registry: PluginRegistry, source?: string): ResolvedExperiment {
  const top = experimentSchema.safeParse(raw);
  if (!top.success) throw new ConfigError(zodIssues(top.error, '', experimentSchema), { source });
  const experiment = top.data;
  const issues: ConfigIssue[] = [];
  const dropped: DroppedOption[] = [];
  const dataset = resolveSlot(registry, 'dataset', experiment.dataset, 'dataset', issues, dropped);
  const schedule = resolveSlot(registry, 'schedule', experiment.schedule, 'schedule', issues, dropped);
  const denoiser = resolveSlot(registry, 'denoiser', experiment.denoiser, 'denoiser', issues, dropped);
  const taken = takeScales(experiment.sampler as Json, issues);
  const sampler = resolveSlot(registry, 'sampler', taken.slot, 'sampler', issues, dropped);
  const metrics = experiment.evaluation.metrics.map((m, i) => resolveSlot(registry, 'metric', m, `evaluation.metrics[${i}]`, issues, dropped));
  const reporters = experiment.reporters.map((r, i) => resolveSlot(registry, 'reporter', r, `reporters[${i}]`, issues, dropped));
  if (taken.guidance !== undefined && !experiment.conditioning?.enabled) {
    issues.push({ path: 'sampler.guidance', message: 'guides a class-conditional model; this config trains an unconditional one (set conditioning.enabled=true)' });
  }
  if (taken.autoguidance !== undefined && experiment.training.guideSnapshotStep === undefined) {
    issues.push({
      path: 'sampler.autoguidance',
      message: 'steers the model away from its own early snapshot, and this config saves none (set training.guideSnapshotStep, e.g. an eighth of training.steps)',
    });
  }
  if (experiment.evaluation.classes !== undefined && !experiment.conditioning?.enabled) {
    issues.push({
      path: 'evaluation.classes',
      message: 'chooses the classes of a class-conditional model; this config trains an unconditional one (set conditioning.enabled=true)',
    });
  }
  const t = experiment.training;
  if (t.epochs !== undefined && t.steps !== undefined) {
    issues.push({ path: 'training.steps', message: 'give either training.epochs or training.steps, not both' });
  }
  if (issues.length > 0) throw new ConfigError(issues, { source });
  return {
    experiment,
    dataset: dataset as ResolvedSlot,
    schedule: schedule as ResolvedSlot,
    denoiser: denoiser as ResolvedSlot,
    sampler: sampler as ResolvedSlot,
    metrics: metrics as ResolvedSlot[],
    reporters: reporters as ResolvedSlot[],
    droppedOptions: dropped,
    ...(taken.guidance !== undefined ? { guidance: taken.guidance } : {}),
    ...(taken.autoguidance !== undefined ? { autoguidance: taken.autoguidance } : {}),
  };
}

/** The config as it will be recorded: every default filled in, plugin options included. */
export function resolvedConfigObject(r: ResolvedExperiment): Json {
  const slot = (s: ResolvedSlot) => ({ use: s.use, ...s.options });
  const { extends: _e, ...top } = r.experiment;
  return {
    ...top,
    dataset: slot(r.dataset),
    schedule: slot(r.schedule),
    denoiser: slot(r.denoiser),
    sampler: {
      ...slot(r.sampler),
      ...(r.guidance !== undefined ? { guidance: r.guidance } : {}),
      ...(r.autoguidance !== undefined ? { autoguidance: r.autoguidance } : {}),
    },
    evaluation: { ...r.experiment.evaluation, metrics: r.metrics.map(slot) },
    reporters: r.reporters.map(slot),
  };
}
