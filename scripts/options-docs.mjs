// Renders plugin option tables from zod schemas, so package READMEs cannot drift from the code.
// Shared by scripts/gen-options.mjs (built packages, writes READMEs) and scripts/options-docs.test.ts
// (sources via vitest aliases, fails when a README is stale): both must render byte-identical text.

/** Markers that delimit the generated section in a package README. */
export const START = '<!-- options:start -->';
export const END = '<!-- options:end -->';

/** Workspace packages (folder under packages/) whose `plugins` get an options section. */
export const PLUGIN_PACKAGES = ['datasets', 'schedules', 'denoisers', 'samplers', 'metrics', 'reporters'];

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (v) => `\`${JSON.stringify(v)}\``;

/** A short type name for a JSON-schema node (zod 4 `z.toJSONSchema`, io: 'input'). */
export function typeOf(p) {
  if (!p || typeof p !== 'object' || Object.keys(p).length === 0) return 'any';
  if (Array.isArray(p.enum)) {
    const types = [...new Set(p.enum.map((v) => (v === null ? 'null' : typeof v)))];
    return types.join(' | ');
  }
  if (p.const !== undefined) return typeof p.const;
  const variants = p.anyOf ?? p.oneOf;
  if (variants) return [...new Set(variants.map(typeOf))].join(' | ');
  if (Array.isArray(p.type)) return p.type.join(' | ');
  if (p.type === 'array') {
    if (Array.isArray(p.prefixItems)) return `[${p.prefixItems.map(typeOf).join(', ')}]`;
    const inner = typeOf(p.items ?? {});
    return inner.includes(' ') ? `(${inner})[]` : `${inner}[]`;
  }
  if (p.type === 'object') {
    const keys = Object.keys(p.properties ?? {});
    return keys.length ? `{ ${keys.join(', ')} }` : 'object';
  }
  return typeof p.type === 'string' ? p.type : 'any';
}

/** Allowed values and numeric/length bounds of a JSON-schema node, as readable text. */
export function allowedOf(p) {
  if (!p || typeof p !== 'object') return '';
  if (Array.isArray(p.enum)) return p.enum.map(code).join(', ');
  if (p.const !== undefined) return code(p.const);
  const variants = p.anyOf ?? p.oneOf;
  if (variants) {
    return variants.map(allowedOf).filter(Boolean).join('; or ');
  }
  const parts = [];
  const lo = p.minimum !== undefined ? `≥ ${p.minimum}` : p.exclusiveMinimum !== undefined ? `> ${p.exclusiveMinimum}` : '';
  const hi = p.maximum !== undefined ? `≤ ${p.maximum}` : p.exclusiveMaximum !== undefined ? `< ${p.exclusiveMaximum}` : '';
  if (lo || hi) parts.push([lo, hi].filter(Boolean).join(', '));
  if (p.minLength !== undefined || p.maxLength !== undefined) parts.push(`length ${bounds(p.minLength, p.maxLength)}`);
  if (p.minItems !== undefined || p.maxItems !== undefined) parts.push(`${bounds(p.minItems, p.maxItems)} items`);
  if (p.pattern) parts.push(`matches \`${p.pattern}\``);
  if (p.type === 'array' && p.items) {
    const inner = allowedOf(p.items);
    if (inner) parts.push(`each ${inner}`);
  }
  return parts.join(', ');
}

function bounds(lo, hi) {
  // Number.MAX_SAFE_INTEGER is what zod emits for "no upper bound" on int(); leave it out.
  const hasHi = hi !== undefined && hi < Number.MAX_SAFE_INTEGER;
  if (lo !== undefined && hasHi) return lo === hi ? `${lo}` : `${lo}–${hi}`;
  if (lo !== undefined) return `≥ ${lo}`;
  return hasHi ? `≤ ${hi}` : '';
}

/** One row per option of a plugin's (object) schema. */
export function describeOptions(z, schema) {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, p]) => {
    const strip = ({ description, default: _d, ...rest }) => rest;
    // Bounds zod adds for int() are noise ("≥ -9007199254740991").
    const cleaned = JSON.parse(JSON.stringify(strip(p), (k, v) => ((k === 'minimum' || k === 'maximum') && Math.abs(v) >= Number.MAX_SAFE_INTEGER ? undefined : v)));
    return {
      name,
      type: typeOf(cleaned),
      default: p.default !== undefined ? code(p.default) : required.has(name) ? 'required' : '—',
      allowed: allowedOf(cleaned),
      description: typeof p.description === 'string' ? p.description : '',
    };
  });
}

/** The markdown for one package's plugins (the text between the markers, without them). */
export function renderOptions(z, plugins, pkgName) {
  const out = [`<!-- Generated from the zod schemas by \`pnpm docs:options\`; do not edit by hand. -->`, ''];
  if (plugins.length === 0) out.push(`${pkgName} ships no config plugins.`, '');
  for (const p of plugins) {
    out.push(`### \`${p.name}\` (${p.kind})`, '', p.description, '');
    const rows = describeOptions(z, p.options);
    if (rows.length === 0) {
      out.push('No options.', '');
      continue;
    }
    out.push('| option | type | default | allowed values | description |', '| --- | --- | --- | --- | --- |');
    for (const r of rows) out.push(`| \`${r.name}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.allowed)} | ${cell(r.description)} |`);
    out.push('');
  }
  return out.join('\n');
}

/**
 * Puts `body` between the markers of `readme`. Without markers, appends an "Options reference"
 * section (before a trailing "## License" if any). Returns the new text.
 */
export function spliceReadme(readme, body) {
  const block = `${START}\n${body}${END}`;
  const s = readme.indexOf(START);
  const e = readme.indexOf(END);
  if (s !== -1 && e > s) return readme.slice(0, s) + block + readme.slice(e + END.length);
  const section = `## Options reference\n\n${block}\n`;
  const lic = readme.search(/^## License\b/m);
  if (lic !== -1) return `${readme.slice(0, lic)}${section}\n${readme.slice(lic)}`;
  return `${readme.replace(/\s*$/, '')}\n\n${section}`;
}
