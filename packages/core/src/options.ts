/**
 * Turns zod validation failures into {@link ConfigIssue}s that name the full key path, list valid
 * choices and suggest the closest key, so a plugin's schema is the only place its rules live.
 */
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';
import { suggest } from './registry.js';

function joinPath(base: string, segments: readonly PropertyKey[]): string {
  let out = base;
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? String(s) : `.${String(s)}`;
  }
  return out;
}

function knownKeys(schema: z.ZodType, segments: readonly PropertyKey[]): string[] {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definition to find object shapes.
  let s: any = schema;
  for (const seg of segments) {
    s = unwrap(s);
    if (s?.shape && typeof seg === 'string') s = s.shape[seg];
    else if (s?.element) s = s.element;
    else return [];
  }
  s = unwrap(s);
  return s?.shape ? Object.keys(s.shape) : [];
}

// biome-ignore lint/suspicious/noExplicitAny: see knownKeys.
function unwrap(s: any): any {
  let cur = s;
  for (let i = 0; i < 10 && cur; i++) {
    const def = cur._zod?.def ?? cur.def;
    if (def && (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault')) cur = def.innerType;
    else if (def && def.type === 'pipe') cur = def.in;
    else break;
  }
  return cur;
}

/** Converts a zod error into config issues rooted at `basePath` (e.g. `sampler`). */
export function zodIssues(error: z.ZodError, basePath: string, schema?: z.ZodType): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const path = joinPath(basePath, issue.path as PropertyKey[]);
    // biome-ignore lint/suspicious/noExplicitAny: zod issue variants carry different fields.
    const anyIssue = issue as any;
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? knownKeys(schema, issue.path as PropertyKey[]) : [];
      for (const key of anyIssue.keys as string[]) {
        const close = suggest(key, known);
        out.push({
          path: joinPath(path, [key]),
          message: `unknown key${close.length ? `; did you mean ${close.map((c) => JSON.stringify(c)).join(' or ')}?` : ''}`,
          choices: known,
        });
      }
    } else if (issue.code === 'invalid_value' && Array.isArray(anyIssue.values)) {
      out.push({ path, message: issue.message, choices: anyIssue.values.map(String) });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

/** Parses options with a schema; on failure throws one ConfigError naming every bad key. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown, basePath: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(zodIssues(result.error, basePath, schema));
}
