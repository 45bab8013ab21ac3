/**
 * One CSV cell, safe to open in a spreadsheet: text that a spreadsheet would run as a formula
 * (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`, as OWASP recommends, while
 * numbers, and text that is exactly a decimal number such as `-0.5`, stay numbers.
 */

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Formats a value as one CSV cell: quoted where it holds `"`, `,` or a newline; formula-like text defused. */
export function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  let s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  // A number (or "-0.5" as text) is data to a spreadsheet; anything else starting like a formula is escaped.
  if (typeof v !== 'number' && FORMULA_START.test(s) && !PLAIN_NUMBER.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
