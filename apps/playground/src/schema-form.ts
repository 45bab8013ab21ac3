/**
 * Form fields from a plugin's zod options schema (through zod's JSON Schema export, as
 * `diffusionlab list` does), so the page never hard-codes a plugin's options: a scalar becomes an
 * input, an enum a select, anything structured (arrays, objects, unions) a JSON text box.
 */
import { z } from '@diffusionlab/core';

/** One generated form field. */
export interface FormField {
  key: string;
  /** How the page edits it. */
  control: 'number' | 'integer' | 'boolean' | 'select' | 'text' | 'json';
  /** The schema's description, shown as the label's hint. */
  description?: string;
  /** The default the schema fills when the key is left out (absent: required or no default). */
  defaultValue?: unknown;
  /** Choices of a `select`. */
  choices?: string[];
  minimum?: number;
  maximum?: number;
  /** True when the schema has no default and the key is not optional. */
  required: boolean;
}

interface JsonSchemaNode {
  type?: string | string[];
  enum?: unknown[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  anyOf?: JsonSchemaNode[];
}

/** The control for one property's JSON Schema node. */
function controlOf(node: JsonSchemaNode): Pick<FormField, 'control' | 'choices'> {
  if (node.enum?.every((v) => typeof v === 'string')) return { control: 'select', choices: node.enum as string[] };
  const type = Array.isArray(node.type) ? node.type.filter((t) => t !== 'null') : node.type ? [node.type] : [];
  if (type.length === 1) {
    if (type[0] === 'integer') return { control: 'integer' };
    if (type[0] === 'number') return { control: 'number' };
    if (type[0] === 'boolean') return { control: 'boolean' };
    if (type[0] === 'string') return { control: 'text' };
  }
  return { control: 'json' };
}

/** The fields of an options schema, in the schema's key order. */
export function formFields(schema: z.ZodType): FormField[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([key, node]) => ({
    key,
    ...controlOf(node),
    description: node.description,
    defaultValue: node.default,
    minimum: node.minimum ?? node.exclusiveMinimum,
    maximum: node.maximum ?? node.exclusiveMaximum,
    required: required.has(key) && node.default === undefined,
  }));
}

/**
 * The option value a field's text means: empty text leaves the key out (the schema's default
 * applies); numbers and JSON are parsed; a JSON typo throws naming the key.
 */
export function fieldValue(field: FormField, text: string | boolean): unknown {
  if (typeof text === 'boolean') return text;
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (field.control === 'number' || field.control === 'integer') return Number(trimmed);
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
export function fieldText(field: FormField, value: unknown): string {
  if (value === undefined) return '';
  return field.control === 'json' ? JSON.stringify(value) : String(value);
}
