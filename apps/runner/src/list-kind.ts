/**
 * The `kind` argument of `diffusionlab list`. The listing prints its headings in the plural
 * ("samplers"), so users type the plural back; both forms are accepted, in any case, and a typo is
 * answered with the closest kinds instead of a bare "unknown".
 */
import { DiffusionLabError, PLUGIN_KINDS, type PluginKind, suggest } from '@diffusionlab/core';

/** The plugin kind named by `arg` (singular or plural, any case), undefined for no argument; a DiffusionLabError with a suggestion otherwise. */
export function parseListKind(arg: string | undefined): PluginKind | undefined {
  if (arg === undefined) return undefined;
  const word = arg.trim().toLowerCase();
  const kind = PLUGIN_KINDS.find((k) => word === k || word === `${k}s`);
  if (kind) return kind;
  const names = PLUGIN_KINDS.flatMap((k) => [k, `${k}s`]);
  const close = [...new Set(suggest(word, names).map((n) => n.replace(/s$/, '')))];
  throw new DiffusionLabError(`unknown plugin kind "${arg}"${close.length ? `; did you mean ${close.map((c) => `"${c}"`).join(' or ')}?` : ''}`, {
    hint: `Kinds (singular or plural): ${PLUGIN_KINDS.join(', ')}. e.g. diffusionlab list sampler`,
  });
}
