/**
 * CSV for spreadsheet exports: RFC 4180 (CRLF line ends, fields with a comma, quote, CR or LF are
 * quoted and their quotes doubled) and safe to open in a spreadsheet: a text cell that starts with
 * `=`, `+`, `-`, `@` (or a tab or CR, which some spreadsheets strip before reading the formula) is
 * prefixed with `'`, so a caller name like `=HYPERLINK(…)` stays text (OWASP "CSV injection").
 */

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell. Numbers are written as they are (a negative number is data, not a formula); null is empty. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, CRLF-terminated (RFC 4180 §2.1). */
export function csvLine(values: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
