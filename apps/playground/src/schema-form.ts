/**
 * Form fields from a plugin's zod options schema (through zod's JSON Schema export, as
 * `diffusionlab list` does), so the page never hard-codes a plugin's options: a scalar becomes an
 * input, an enum or a set of constants a select, an object its own nested fields, a union (`false`
 * or a number, `false` or an object, "median" or a list) a choice of its alternatives with the
 * chosen one's editor, and only what has no simpler editor (lists, records) a JSON text box.
 */
import { z } from '@diffusionlab/core';

/** How one value is edited; recursive for objects and unions. */
export interface FieldSpec {
  /**
   * `const`: exactly one value (a union's `false`); `select`: one of `choices`; `object`: the
   * nested `fields`; `union`: one of `variants`, each edited by its own spec; `json`: anything else.
   */
  control: 'number' | 'integer' | 'boolean' | 'select' | 'text' | 'json' | 'const' | 'object' | 'union';
  /** The schema's description, shown as the label's hint. */
  description?: string;
  /** The default the schema fills when the key is left out (absent: required or no default). */
  defaultValue?: unknown;
  /** The values of a `select`, in the schema's order (strings, numbers or booleans). */
  choices?: unknown[];
  /** The one value of a `const`. */
  constValue?: unknown;
  /** The properties of an `object`. */
  fields?: FormField[];
  /** The alternatives of a `union`, in the schema's order. */
  variants?: FieldSpec[];
  /** What a `json` box must hold, when the schema says (a list or a record). */
  jsonType?: 'array' | 'object';
  minimum?: number;
  maximum?: number;
  /** Bounds that are themselves excluded (zod's `.positive()`: `> 0`). */
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/** One generated form field: a spec under a key of the options object. */
export interface FormField extends FieldSpec {
  key: string;
  /** True when the schema has no default and the key is not optional. */
  required: boolean;
}

interface JsonSchemaNode {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
}

const isPrimitive = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const SCALARS: Record<string, FieldSpec['control']> = { integer: 'integer', number: 'number', boolean: 'boolean', string: 'text' };

/**
 * The bounds a number node states (JSON Schema draft 2020-12: exclusive bounds are numbers). zod's
 * `.int()` adds ±2⁵³−1, which bounds nothing a user types, so it is left out.
 */
function bounds(node: JsonSchemaNode): Pick<FieldSpec, 'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum'> {
  const out: Pick<FieldSpec, 'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum'> = {};
  const real = (v: number | undefined): v is number => v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER;
  if (real(node.minimum)) out.minimum = node.minimum;
  if (real(node.maximum)) out.maximum = node.maximum;
  if (real(node.exclusiveMinimum)) out.exclusiveMinimum = node.exclusiveMinimum;
  if (real(node.exclusiveMaximum)) out.exclusiveMaximum = node.exclusiveMaximum;
  return out;
}

/** The editor for one JSON Schema node (without its description and default, which the caller adds). */
function specOf(node: JsonSchemaNode): FieldSpec {
  if (node.const !== undefined) return { control: 'const', constValue: node.const };
  if (node.enum && node.enum.length > 0 && node.enum.every(isPrimitive)) {
    return node.enum.length === 1 ? { control: 'const', constValue: node.enum[0] } : { control: 'select', choices: [...node.enum] };
  }
  const alternatives = (node.anyOf ?? node.oneOf)?.filter((n) => n.type !== 'null');
  if (alternatives && alternatives.length > 0) {
    const variants = alternatives.map(specOf);
    if (variants.length === 1) return variants[0];
    // Constants only (e.g. 28 | 14): one select of their values.
    if (variants.every((v) => v.control === 'const' || v.control === 'select')) {
      return { control: 'select', choices: variants.flatMap((v) => (v.control === 'const' ? [v.constValue] : (v.choices ?? []))) };
    }
    return { control: 'union', variants };
  }
  const types = (Array.isArray(node.type) ? node.type : node.type ? [node.type] : []).filter((t) => t !== 'null');
  if (types.length > 1) return specOf({ anyOf: types.map((type) => ({ ...node, type })) });
  const [type] = types;
  if (type && SCALARS[type]) return { control: SCALARS[type], ...(type === 'number' || type === 'integer' ? bounds(node) : {}) };
  if (type === 'object' && node.properties && Object.keys(node.properties).length > 0) return { control: 'object', fields: fieldsOf(node) };
  return { control: 'json', ...(type === 'array' || type === 'object' ? { jsonType: type } : {}) };
}

/** The properties of an object node as fields, in the schema's key order. */
function fieldsOf(node: JsonSchemaNode): FormField[] {
  const required = new Set(node.required ?? []);
  return Object.entries(node.properties ?? {}).map(([key, prop]) => {
    const field: FormField = { key, ...specOf(prop), required: required.has(key) && prop.default === undefined };
    if (prop.description !== undefined) field.description = prop.description;
    if (prop.default !== undefined) field.defaultValue = prop.default;
    return field;
  });
}

/** The fields of an options schema, in the schema's key order. */
export function formFields(schema: z.ZodType): FormField[] {
  return fieldsOf(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when `value` is of the kind `spec` edits (for a union: which alternative shows it). */
export function accepts(spec: FieldSpec, value: unknown): boolean {
  switch (spec.control) {
    case 'const':
      return same(value, spec.constValue);
    case 'select':
      return (spec.choices ?? []).some((c) => same(c, value));
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'text':
      return typeof value === 'string';
    case 'object':
      return isRecord(value);
    case 'union':
      return (spec.variants ?? []).some((v) => accepts(v, value));
    case 'json':
      return spec.jsonType === 'array' ? Array.isArray(value) : spec.jsonType === 'object' ? isRecord(value) : true;
  }
}

/** The alternative of a union that shows `value` (the set value, else the default); the first one when none does. */
export function variantIndex(spec: FieldSpec, value: unknown): number {
  const i = (spec.variants ?? []).findIndex((v) => accepts(v, value));
  return Math.max(i, 0);
}

/**
 * The value a union takes when the user switches to `variant`: its constant, an empty object (the
 * schema fills every default), the first choice, or the field's default when it fits (else unset).
 */
export function variantStartValue(variant: FieldSpec, fieldDefault: unknown): unknown {
  if (variant.control === 'const') return variant.constValue;
  if (variant.control === 'object') return {};
  if (variant.control === 'select') return variant.choices?.[0];
  if (variant.control === 'boolean') return false;
  return fieldDefault !== undefined && accepts(variant, fieldDefault) ? fieldDefault : undefined;
}

/** A bound as a reader writes it: `≥ 0`, `> 0`, `≤ 1`. */
function rangeText(spec: FieldSpec): string {
  const parts = [
    spec.exclusiveMinimum !== undefined ? `> ${spec.exclusiveMinimum}` : spec.minimum !== undefined ? `≥ ${spec.minimum}` : '',
    spec.exclusiveMaximum !== undefined ? `< ${spec.exclusiveMaximum}` : spec.maximum !== undefined ? `≤ ${spec.maximum}` : '',
  ].filter(Boolean);
  return parts.join(', ');
}

/** How a union names one alternative in its select: the constant itself, or the kind of value with its range or keys. */
export function variantLabel(spec: FieldSpec): string {
  switch (spec.control) {
    case 'const':
      return valueText(spec.constValue);
    case 'select':
      return (spec.choices ?? []).map(valueText).join(' | ');
    case 'object':
      return `{ ${(spec.fields ?? []).map((f) => f.key).join(', ')} }`;
    case 'number':
    case 'integer': {
      const range = rangeText(spec);
      return range ? `${spec.control} ${range}` : spec.control;
    }
    case 'json':
      return spec.jsonType === 'array' ? 'list' : spec.jsonType === 'object' ? 'record' : 'JSON';
    default:
      return spec.control;
  }
}

/** A constant or choice as the page shows it: strings bare, everything else as JSON. */
export function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The option value a scalar or JSON field's text means: empty text leaves the key out (the
 * schema's default applies); numbers and JSON are parsed; a typo throws naming the key.
 */
export function fieldValue(field: FieldSpec & { key: string }, text: string | boolean): unknown {
  if (typeof text === 'boolean') return text;
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (field.control === 'number' || field.control === 'integer') {
    const n = Number(trimmed);
    if (!Number.isFinite(n)) throw new Error(`${field.key}: "${trimmed.slice(0, 40)}" is not a number`);
    return n;
  }
  if (field.control === 'json') {
    try {
      return JSON.parse(trimmed);
    } catch {
      throw new Error(`${field.key}: not valid JSON (${trimmed.slice(0, 40)}); write e.g. [1, 2] or {"a": 1}`);
    }
  }
  return trimmed;
}

/** How a field shows a value: JSON for structured ones, plain text otherwise. */
export function fieldText(field: FieldSpec, value: unknown): string {
  if (value === undefined) return '';
  return field.control === 'json' ? JSON.stringify(value) : String(value);
}
