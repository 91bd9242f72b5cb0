/** Characters that make a spreadsheet read a cell as a formula (CSV injection, CWE-1236). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell, safe to open in a spreadsheet: a cell that starts like a formula gets a leading
 * `'` so it is shown as text, and a cell with a delimiter, quote or line break is quoted.
 */
export function safeCsvCell(value: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
