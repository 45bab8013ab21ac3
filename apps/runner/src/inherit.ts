/**
 * Switching a slot's plugin (`schedule.use=cosine`, or a child config's `schedule: { use: cosine }`
 * over an `extends` base) keeps the options the new plugin also accepts and drops the rest, saying
 * which. Merging marks the options carried across the switch as inherited (under {@link INHERITED});
 * resolution, which knows the new plugin's schema, decides which of them stay. Options the user sets
 * explicitly are never dropped: they are validated, and an invalid one is an error.
 */
import { type AnyPluginDefinition, ConfigError, type PluginKind, type PluginRegistry, type z } from '@diffusionlab/core';

type Json = Record<string, unknown>;

/**
 * The slot key that lists options inherited across a `use` switch: option → the plugin it was set
 * for. Its name cannot be written as a `key=value` override, and resolution removes it.
 */
export const INHERITED = '~inherited';

/**
 * Refuses a config file that writes {@link INHERITED} itself: the marks would make resolution drop the
 * options they name without the user asking for a plugin switch. Only merging may create them.
 */
export function checkNoInheritedKey(value: unknown, file: string): void {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: '' }];
  while (stack.length > 0) {
    const { v, path } = stack.pop() as { v: unknown; path: string };
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: `${path}[${i}]` }));
    else if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        if (k === INHERITED) {
          throw new ConfigError({
            path: p,
            message: `"${INHERITED}" (in ${file}) is reserved for the runner's record of options carried across a plugin switch; remove the key and set the options you want explicitly`,
          });
        }
        stack.push({ v: x, path: p });
      }
    }
  }
}

/** One option dropped because the plugin switched to does not accept it (printed and recorded). */
export interface DroppedOption {
  /** The slot (`schedule`, `evaluation.metrics[0]`). */
  path: string;
  key: string;
  value: unknown;
  /** The plugin it was set for, and the one switched to. */
  from: string;
  to: string;
}

/** The one-line warning for a dropped option. */
export function droppedMessage(d: DroppedOption): string {
  return `${d.path}.${d.key} = ${JSON.stringify(d.value)} (set for ${d.from}) was dropped: ${d.path}.use = ${d.to} does not accept it`;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const marksOf = (slot: Json): Record<string, string> => (isObject(slot[INHERITED]) ? (slot[INHERITED] as Record<string, string>) : {});

/** The options of `slot` (not `use`, not the marks) marked as inherited from its current plugin, merged with earlier marks. */
function inheritedMarks(slot: Json, except: Json = {}): Record<string, string> {
  const old = marksOf(slot);
  const marks: Record<string, string> = {};
  for (const k of Object.keys(slot)) {
    if (k === 'use' || k === INHERITED || k in except) continue;
    marks[k] = old[k] ?? String(slot.use);
  }
  return marks;
}

/** True when `over` switches the plugin of slot `base` (both name a different `use`). */
export function switchesPlugin(base: unknown, over: unknown): boolean {
  return isObject(base) && isObject(over) && 'use' in base && 'use' in over && base.use !== over.use;
}

/** `extends`: the child's slot over a base slot of another plugin; the base's other options come along, marked inherited. */
export function mergeSwitchedSlot(base: Json, over: Json): Json {
  const marks = inheritedMarks(base, over);
  const { use: _u, [INHERITED]: _m, ...options } = base;
  const out: Json = { ...options, ...over };
  if (Object.keys(marks).length > 0) out[INHERITED] = marks;
  else delete out[INHERITED];
  return out;
}

/** An override `slot.use=<new>`: the options already set stay, marked inherited from the old plugin. */
export function markSwitch(slot: Json, newUse: unknown): void {
  if (slot.use === undefined || slot.use === newUse) return;
  const marks = inheritedMarks(slot);
  if (Object.keys(marks).length > 0) slot[INHERITED] = marks;
}

/** An override that sets option `key` of a slot makes it explicit (no longer inherited). */
export function markExplicit(slot: Json, key: string): void {
  const marks = slot[INHERITED];
  if (!isObject(marks) || !(key in marks)) return;
  delete marks[key];
  if (Object.keys(marks).length === 0) delete slot[INHERITED];
}

/** Splits a slot into its plugin name, its options and the inherited marks. */
export function splitSlot(obj: Json): { use: string; options: Json; inherited: Record<string, string> } {
  const { use, [INHERITED]: _m, ...options } = obj;
  return { use: use as string, options, inherited: marksOf(obj) };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Validates a slot's options with the new plugin's schema: inherited options it accepts are kept;
 * those it does not accept (unknown key or an invalid value for it) are dropped and recorded, except
 * one equal to its old plugin's default (a recorded run config lists every default), dropped silently.
 */
export function parseWithInherited(
  def: AnyPluginDefinition,
  kind: PluginKind,
  registry: PluginRegistry,
  slot: { use: string; options: Json; inherited: Record<string, string> },
  path: string,
): { success: true; data: Json; dropped: DroppedOption[] } | { success: false; error: z.ZodError } {
  const options = { ...slot.options };
  const inherited = new Set(Object.keys(slot.inherited).filter((k) => k in options));
  const isOldDefault = (k: string): boolean => {
    const from = slot.inherited[k];
    const old = registry.has(kind, from) ? registry.get(kind, from).options.safeParse({}) : null;
    return Boolean(old?.success && isObject(old.data) && same(old.data[k], options[k]));
  };
  const dropped: DroppedOption[] = [];
  for (;;) {
    const parsed = def.options.safeParse(options);
    if (parsed.success) return { success: true, data: parsed.data as Json, dropped };
    const culprits = new Set<string>();
    for (const issue of parsed.error.issues) {
      for (const k of issue.path.length > 0 ? [String(issue.path[0])] : issue.code === 'unrecognized_keys' ? issue.keys : []) if (inherited.has(k)) culprits.add(k);
    }
    if (culprits.size === 0) return { success: false, error: parsed.error };
    for (const k of culprits) {
      if (!isOldDefault(k)) dropped.push({ path, key: k, value: options[k], from: slot.inherited[k], to: slot.use });
      delete options[k];
      inherited.delete(k);
    }
  }
}
