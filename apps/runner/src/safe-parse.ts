/**
 * Guards around reading config text, so that hostile or mistaken input ends in one clear
 * ConfigError instead of a hang, a stack overflow or an echo of a file's content: config files must
 * be small regular files, nesting and YAML aliases are bounded, and keys that reach JavaScript's
 * object machinery (`__proto__`, `constructor`, `prototype`) are refused.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '@diffusionlab/core';

/** Largest config file read (bytes): real configs are a few KB; this stops `extends: /dev/zero`-like reads. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Deepest nesting of objects and lists a config may have; real configs nest 3–4 levels. */
export const MAX_CONFIG_DEPTH = 64;

/** Most YAML alias expansions in one file (`yaml`'s own guard, made an explicit, reported limit). */
export const MAX_YAML_ALIASES = 100;

/** Keys that would change JavaScript objects' prototypes when set by path; never valid config keys. */
export const FORBIDDEN_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** Throws when `key` is one of {@link FORBIDDEN_KEYS}; `path` names where it was found. */
export function checkKeyName(key: string, path: string): void {
  if (FORBIDDEN_KEYS.includes(key)) {
    throw new ConfigError({ path, message: `"${key}" is not allowed as a key (it would change JavaScript objects, not the config)` });
  }
}

/**
 * Reads a config file as UTF-8 text, refusing anything but a regular file of at most
 * {@link MAX_CONFIG_BYTES}: devices (`/dev/zero`), FIFOs and directories would hang or fail oddly.
 * The check is made on the opened descriptor, so the file read is the file checked; the open does
 * not block, so a FIFO with no writer is refused instead of hanging.
 */
export function readConfigText(abs: string, shown: string, path: string): string {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new ConfigError({ path, message: `cannot read config file ${shown}: ${(e as Error).message}` });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const what = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a pipe (FIFO)' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';
      throw new ConfigError({ path, message: `config file ${shown} is ${what}; give a YAML or JSON file` });
    }
    if (st.size > MAX_CONFIG_BYTES) {
      throw new ConfigError({ path, message: `config file ${shown} is ${st.size} bytes, over the ${MAX_CONFIG_BYTES}-byte limit for configs; is it the right file?` });
    }
    // Read at most one byte past the limit, in case the file grew after fstat.
    const buf = Buffer.alloc(Math.min(st.size, MAX_CONFIG_BYTES) + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_CONFIG_BYTES) throw new ConfigError({ path, message: `config file ${shown} is over the ${MAX_CONFIG_BYTES}-byte limit for configs` });
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Deepest bracket nesting of JSON (or YAML flow) text, outside strings, stopping once past `limit`.
 * Scanned before parsing, so a 100 000-deep document never reaches a recursive parser or walker.
 */
export function bracketDepth(text: string, limit = MAX_CONFIG_DEPTH): number {
  let depth = 0;
  let max = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '{' || ch === '[') {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (ch === '}' || ch === ']') depth--;
  }
  return max;
}

/** Refuses text nested deeper than {@link MAX_CONFIG_DEPTH}, naming the file. */
export function checkTextDepth(text: string, file: string): void {
  if (bracketDepth(text) > MAX_CONFIG_DEPTH) {
    throw new ConfigError({ path: '', message: `${file} nests lists or mappings more than ${MAX_CONFIG_DEPTH} levels deep; a diffusionlab config needs a few` });
  }
}

/**
 * Walks a parsed config (iteratively, so depth cannot overflow the stack) and refuses nesting past
 * {@link MAX_CONFIG_DEPTH} and the keys in {@link FORBIDDEN_KEYS}, naming the dotted path.
 */
export function checkConfigValue(value: unknown, file: string): void {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop() as { v: unknown; path: string; depth: number };
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_CONFIG_DEPTH) {
      throw new ConfigError({ path, message: `${file} nests lists or mappings more than ${MAX_CONFIG_DEPTH} levels deep; a diffusionlab config needs a few` });
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push({ v: x, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    for (const k of Object.keys(v)) {
      const p = path ? `${path}.${k}` : k;
      checkKeyName(k, `${p} (in ${file})`);
      stack.push({ v: (v as Record<string, unknown>)[k], path: p, depth: depth + 1 });
    }
  }
}

/**
 * Refuses a mapping none of whose keys is a config key: such a file (say `extends: /etc/shadow`) is
 * not a diffusionlab config, and listing its "unknown keys" would print its content back.
 */
export function checkLooksLikeConfig(value: Record<string, unknown>, file: string, knownKeys: readonly string[]): void {
  const keys = Object.keys(value);
  if (keys.length > 0 && !keys.some((k) => knownKeys.includes(k))) {
    throw new ConfigError({ path: '', message: `${file} is not a diffusionlab config: none of its ${keys.length} top-level keys is a config key (${knownKeys.join(', ')})` });
  }
}
