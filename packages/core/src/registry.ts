/**
 * The explicit plugin registry: built from plugin arrays the runner imports (and packages a config
 * lists under `plugins:`), never from import side effects.
 */
import { ConfigError, PluginError } from './errors.js';
import { type AnyPluginDefinition, PLUGIN_KINDS, type PluginKind } from './plugin.js';

/** Closest names by edit distance, for "did you mean" hints. */
export function suggest(name: string, candidates: readonly string[], max = 3): string[] {
  const scored = candidates.map((c) => ({ c, d: editDistance(name.toLowerCase(), c.toLowerCase()) }));
  const limit = Math.max(2, Math.floor(name.length / 3));
  return scored
    .filter((s) => s.d <= limit)
    .sort((a, b) => a.d - b.d)
    .slice(0, max)
    .map((s) => s.c);
}

/** Levenshtein distance; small strings only. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** Looks plugins up by kind and name and lists them; duplicates are an error, not a silent override. */
export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, AnyPluginDefinition>>();
  private readonly origin = new Map<AnyPluginDefinition, string>();

  constructor(plugins: Iterable<AnyPluginDefinition> = [], origin = 'builtin') {
    for (const k of PLUGIN_KINDS) this.byKind.set(k, new Map());
    this.addAll(plugins, origin);
  }

  /** Adds a package's plugins; `origin` (package name) appears in duplicate errors and `list`. */
  addAll(plugins: Iterable<AnyPluginDefinition>, origin = 'builtin'): this {
    for (const p of plugins) this.add(p, origin);
    return this;
  }

  add(plugin: AnyPluginDefinition, origin = 'builtin'): this {
    const kinds = this.byKind.get(plugin.kind);
    if (!kinds) {
      throw new PluginError(`Plugin ${JSON.stringify(plugin.name)} from ${origin} has unknown kind ${JSON.stringify(plugin.kind)}`, {
        hint: `kind must be one of: ${PLUGIN_KINDS.join(', ')}`,
      });
    }
    const existing = kinds.get(plugin.name);
    if (existing && existing !== plugin) {
      throw new PluginError(`Two ${plugin.kind} plugins are named ${JSON.stringify(plugin.name)} (from ${this.origin.get(existing)} and ${origin})`, {
        hint: 'Rename one of them or drop one package from `plugins:`.',
      });
    }
    kinds.set(plugin.name, plugin);
    this.origin.set(plugin, origin);
    return this;
  }

  /** Names of one kind, sorted. */
  names(kind: PluginKind): string[] {
    return [...(this.byKind.get(kind)?.keys() ?? [])].sort();
  }

  has(kind: PluginKind, name: string): boolean {
    return this.byKind.get(kind)?.has(name) ?? false;
  }

  /** The plugin, or a ConfigError at `path` that lists the valid names and a suggestion. */
  get(kind: PluginKind, name: string, path = `${kind}.use`): AnyPluginDefinition {
    const p = this.byKind.get(kind)?.get(name);
    if (p) return p;
    const names = this.names(kind);
    const close = suggest(name, names);
    const dym = close.length > 0 ? `; did you mean ${close.map((c) => JSON.stringify(c)).join(' or ')}?` : '';
    throw new ConfigError({ path, message: `unknown ${kind} ${JSON.stringify(name)}${dym}`, choices: names });
  }

  /** All plugins, optionally of one kind, in kind order then name order. */
  list(kind?: PluginKind): AnyPluginDefinition[] {
    const kinds = kind ? [kind] : PLUGIN_KINDS;
    return kinds.flatMap((k) => this.names(k).map((n) => this.byKind.get(k)?.get(n) as AnyPluginDefinition));
  }

  /** The package a plugin came from. */
  originOf(plugin: AnyPluginDefinition): string {
    return this.origin.get(plugin) ?? 'unknown';
  }
}
