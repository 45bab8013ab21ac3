// The form generator against zod schemas written here (each kind of option it must edit) and against
// every plugin the page offers: no option may fall back to a free JSON box unless its schema is a
// list or a record, and every value a union's alternative starts from must parse with the plugin's
// own schema (so switching an alternative in the page never makes an invalid config).
import { trainingSchema, z } from '@diffusionlab/core';
import { describe, expect, it } from 'vitest';
import { CATALOG, type SlotKind } from './catalog.js';
import { accepts, type FieldSpec, type FormField, fieldValue, formFields, variantIndex, variantLabel, variantStartValue } from './schema-form.js';

const byKey = (fields: FormField[]) => Object.fromEntries(fields.map((f) => [f.key, f]));

/** A schema with one option of every kind the generator must handle. */
const options = z.object({
  clip: z.union([z.number().positive(), z.literal(false)]).default(false),
  threshold: z.union([z.literal(false), z.object({ ratio: z.number().gt(0).max(1).default(0.995), maxValue: z.number().min(1).default(1) })]).default(false),
  resolution: z.union([z.literal(28), z.literal(14)]).default(28),
  bandwidths: z.union([z.literal('median'), z.array(z.number().positive()).min(1)]).default('median'),
  mode: z.enum(['a', 'b']).default('b'),
  count: z.number().int().min(1).optional(),
  size: z.number().int(),
  nested: z.object({ width: z.number().int().default(4), name: z.string().optional() }).default({ width: 4 }),
  list: z.array(z.number()).default([1, 2]),
  scale: z.union([z.number(), z.string()]).optional(),
});

describe('formFields', () => {
  const f = byKey(formFields(options));

  it('makes a union of a number and `false` a choice of the two, the default chosen', () => {
    expect(f.clip.control).toBe('union');
    expect(f.clip.variants?.map(variantLabel)).toEqual(['number > 0', 'false']);
    expect(variantIndex(f.clip, f.clip.defaultValue)).toBe(1);
    expect(variantIndex(f.clip, 2.5)).toBe(0);
    expect(f.clip.variants?.[0]).toMatchObject({ control: 'number', exclusiveMinimum: 0 });
  });

  it('edits the object alternative of a union with its own nested fields and their defaults', () => {
    expect(f.threshold.control).toBe('union');
    const [off, on] = f.threshold.variants as FieldSpec[];
    expect(off).toEqual({ control: 'const', constValue: false });
    expect(on.control).toBe('object');
    expect(variantLabel(on)).toBe('{ ratio, maxValue }');
    expect(on.fields?.map((x) => [x.key, x.control, x.defaultValue, x.required])).toEqual([
      ['ratio', 'number', 0.995, false],
      ['maxValue', 'number', 1, false],
    ]);
    expect(variantIndex(f.threshold, { ratio: 0.9 })).toBe(1);
    expect(variantIndex(f.threshold, false)).toBe(0);
  });

  it('makes a union of constants one select of their values, numbers kept as numbers', () => {
    expect(f.resolution).toMatchObject({ control: 'select', choices: [28, 14], defaultValue: 28 });
    expect(f.mode).toMatchObject({ control: 'select', choices: ['a', 'b'], defaultValue: 'b' });
  });

  it('keeps a JSON box only for lists and records, and says which', () => {
    expect(f.bandwidths.variants?.map((v) => [v.control, variantLabel(v)])).toEqual([
      ['const', 'median'],
      ['json', 'list'],
    ]);
    expect(f.list).toMatchObject({ control: 'json', jsonType: 'array' });
  });

  it('gives a plain object its nested fields, a union of scalar types both editors, and marks what is required', () => {
    expect(f.nested.fields?.map((x) => [x.key, x.control, x.required])).toEqual([
      ['width', 'integer', false],
      ['name', 'text', false],
    ]);
    expect(f.scale.variants?.map((v) => v.control)).toEqual(['number', 'text']);
    expect([f.count.required, f.size.required, f.clip.required]).toEqual([false, true, false]);
    expect(f.count).toMatchObject({ control: 'integer', minimum: 1 });
    // zod's .int() bound of 2⁵³−1 is no bound a user types: not shown.
    expect(f.count.maximum).toBeUndefined();
    expect(variantLabel(f.count)).toBe('integer ≥ 1');
  });

  it('starts each alternative from a value the schema accepts (or unset, so the default applies)', () => {
    const starts = (field: FormField) => (field.variants ?? []).map((v) => variantStartValue(v, field.defaultValue));
    expect(starts(f.clip)).toEqual([undefined, false]);
    expect(starts(f.threshold)).toEqual([false, {}]);
    expect(options.parse({ size: 1, threshold: {} }).threshold).toEqual({ ratio: 0.995, maxValue: 1 });
    expect(starts(f.bandwidths)).toEqual(['median', undefined]);
  });

  it('parses what is typed, naming the key on a typo', () => {
    expect(fieldValue(f.size, ' 12 ')).toBe(12);
    expect(fieldValue(f.size, '')).toBeUndefined();
    expect(() => fieldValue(f.size, '12x')).toThrow(/^size: "12x" is not a number/);
    expect(fieldValue(f.list, '[3, 4]')).toEqual([3, 4]);
    expect(() => fieldValue(f.list, '[3,')).toThrow(/^list: not valid JSON/);
  });
});

describe('every plugin the page offers', () => {
  /** Every spec under a field: itself, its variants and nested fields, with a path for messages. */
  function* walk(path: string, spec: FieldSpec): Generator<[string, FieldSpec]> {
    yield [path, spec];
    for (const v of spec.variants ?? []) yield* walk(`${path}|${variantLabel(v)}`, v);
    for (const x of spec.fields ?? []) yield* walk(`${path}.${x.key}`, x);
  }
  const schemas: [string, z.ZodType][] = [
    ...(Object.entries(CATALOG) as [SlotKind, (typeof CATALOG)[SlotKind]][]).flatMap(([kind, list]) => list.map((p) => [`${kind} ${p.name}`, p.options] as [string, z.ZodType])),
    ['training', trainingSchema],
  ];

  it('gets an editor for every option: a JSON box only where the schema is a list or a record', () => {
    const untyped = schemas.flatMap(([name, schema]) =>
      formFields(schema).flatMap((field) => [...walk(`${name}: ${field.key}`, field)].filter(([, s]) => s.control === 'json' && s.jsonType === undefined).map(([p]) => p)),
    );
    expect(untyped).toEqual([]);
  });

  it('offers union options as their alternatives, each starting from a value the plugin accepts', () => {
    let unions = 0;
    for (const [name, schema] of schemas) {
      for (const field of formFields(schema).filter((x) => x.control === 'union')) {
        unions++;
        expect(variantIndex(field, field.defaultValue), `${name}: ${field.key}'s default shows`).toBeGreaterThanOrEqual(0);
        expect(accepts(field, field.defaultValue) || field.defaultValue === undefined, `${name}: ${field.key}'s default is one of its alternatives`).toBe(true);
        for (const v of field.variants ?? []) {
          const start = variantStartValue(v, field.defaultValue);
          if (start === undefined) continue;
          const parsed = (schema as z.ZodType).safeParse({ ...requiredValues(schema), [field.key]: start });
          expect(parsed.success, `${name}: ${field.key} = ${JSON.stringify(start)} (${variantLabel(v)})`).toBe(true);
        }
      }
    }
    // The samplers' clipSample and thresholding (and euler-family sigmaMax) are unions: they must be found.
    expect(unions).toBeGreaterThan(10);
  });
});

/** Values for a schema's required options with no default (datasets such as `points` and `file` have them), taken from its own example when it parses. */
function requiredValues(schema: z.ZodType): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of formFields(schema).filter((x) => x.required)) {
    out[f.key] =
      f.control === 'text'
        ? 'data.csv'
        : f.control === 'json' && f.jsonType === 'array'
          ? [
              [0, 0],
              [1, 1],
            ]
          : f.control === 'number' || f.control === 'integer'
            ? 1
            : undefined;
  }
  return out;
}
