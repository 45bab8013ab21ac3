/**
 * The DOM editors for {@link FieldSpec}s: one input per scalar, a select per enum, nested fields per
 * object, and for a union a select of its alternatives beside the chosen alternative's own editor.
 * Every editor writes plain option values (what the plugin's zod schema parses) through `set`;
 * nothing here knows a plugin or an option key.
 */
import { accepts, type FieldSpec, type FormField, fieldText, fieldValue, valueText, variantIndex, variantLabel, variantStartValue } from './schema-form.js';

/** Writes a field's new value; `undefined` leaves the key out, so the schema's default applies. */
export type SetValue = (value: unknown) => void;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The placeholder of an empty input: its default, else what it must hold. */
function placeholderOf(spec: FieldSpec): string {
  if (spec.defaultValue !== undefined && accepts(spec, spec.defaultValue)) return `default ${fieldText(spec, spec.defaultValue)}`;
  if (spec.control === 'number' || spec.control === 'integer') return variantLabel(spec);
  return '';
}

/** One input, select or textarea for a scalar, enum or JSON spec named `name`. */
function scalarInput(spec: FieldSpec & { key: string }, name: string, value: unknown, set: SetValue, onError: (e: unknown) => void): HTMLElement {
  let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  if (spec.control === 'select') {
    const select = document.createElement('select');
    const choices = spec.choices ?? [];
    for (const c of choices) select.add(new Option(valueText(c), valueText(c)));
    const shown = [value, spec.defaultValue].find((v) => v !== undefined && choices.some((c) => valueText(c) === valueText(v)));
    select.selectedIndex = shown === undefined ? 0 : choices.findIndex((c) => valueText(c) === valueText(shown));
    select.addEventListener('change', () => set(choices[select.selectedIndex]));
    select.name = name;
    return select;
  }
  if (spec.control === 'boolean') {
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = Boolean(value ?? spec.defaultValue);
    input = box;
  } else if (spec.control === 'json') {
    input = document.createElement('textarea');
    input.rows = 2;
    input.value = fieldText(spec, value);
    input.placeholder = fieldText(spec, spec.defaultValue);
  } else {
    const box = document.createElement('input');
    box.type = spec.control === 'text' ? 'text' : 'number';
    if (spec.control === 'integer') box.step = '1';
    if (spec.control === 'number') box.step = 'any';
    box.value = fieldText(spec, value);
    box.placeholder = placeholderOf(spec);
    input = box;
  }
  input.name = name;
  input.addEventListener('change', () => {
    try {
      set(fieldValue(spec, input instanceof HTMLInputElement && input.type === 'checkbox' ? input.checked : input.value));
    } catch (e) {
      // The raw text goes in, so the schema's own message names the key under the form.
      set(input.value);
      onError(e);
    }
  });
  return input;
}

/** The nested fields of an object spec; each edit writes a copy of the whole object. */
function objectEditor(spec: FieldSpec, name: string, value: unknown, set: SetValue, onError: (e: unknown) => void): HTMLElement {
  const box = document.createElement('div');
  box.className = 'fields subfields';
  const current: Record<string, unknown> = isRecord(value) ? { ...value } : {};
  for (const f of spec.fields ?? []) {
    box.append(
      fieldElement(
        f,
        current[f.key],
        (v) => {
          if (v === undefined) delete current[f.key];
          else current[f.key] = v;
          set({ ...current });
        },
        onError,
        `${name}.${f.key}`,
      ),
    );
  }
  return box;
}

/** A union: a select of its alternatives (named `name`) and, beside it, the chosen alternative's editor. */
function unionEditor(spec: FieldSpec & { key: string }, name: string, value: unknown, set: SetValue, onError: (e: unknown) => void): HTMLElement {
  const variants = spec.variants ?? [];
  const box = document.createElement('div');
  box.className = 'union';
  const select = document.createElement('select');
  select.name = name;
  variants.forEach((v, i) => select.add(new Option(variantLabel(v), String(i))));
  const editor = document.createElement('div');
  editor.className = 'variant';
  const show = (i: number, v: unknown) => {
    const variant = variants[i];
    editor.replaceChildren();
    if (variant.control === 'const') return;
    const inner = { ...variant, key: spec.key, defaultValue: accepts(variant, spec.defaultValue) ? spec.defaultValue : undefined };
    editor.append(variant.control === 'object' ? objectEditor(inner, name, v, set, onError) : scalarInput(inner, name, v, set, onError));
  };
  const index = variantIndex(spec, value ?? spec.defaultValue);
  select.selectedIndex = index;
  show(index, value);
  select.addEventListener('change', () => {
    const variant = variants[select.selectedIndex];
    const next = variantStartValue(variant, spec.defaultValue);
    show(select.selectedIndex, next);
    set(next);
  });
  box.append(select, editor);
  return box;
}

/**
 * The labelled editor of one field, showing `value` (undefined: the key is unset and the default
 * shows as a placeholder); `name` is the inputs' name (nested fields: `parent.key`).
 */
export function fieldElement(field: FormField, value: unknown, set: SetValue, onError: (e: unknown) => void, name = field.key): HTMLElement {
  const structured = field.control === 'object' || field.control === 'union';
  const wrapper = document.createElement(structured ? 'div' : 'label');
  // Nested fields need the form's full width; a union of scalars fits a cell.
  const wide = field.control === 'object' || (field.variants ?? []).some((v) => v.control === 'object');
  wrapper.className = wide ? 'field wide' : 'field';
  wrapper.title = field.description ?? '';
  const title = document.createElement('span');
  title.textContent = field.required ? `${field.key} *` : field.key;
  wrapper.append(title);
  if (field.control === 'union') wrapper.append(unionEditor(field, name, value, set, onError));
  else if (field.control === 'object') wrapper.append(objectEditor(field, name, value, set, onError));
  else if (field.control === 'const') wrapper.append(valueText(field.constValue));
  else wrapper.append(scalarInput(field, name, value, set, onError));
  return wrapper;
}
