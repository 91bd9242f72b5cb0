/**
 * A formula trigger (CSV injection, CWE-1236: = + - @ tab CR) at the start of the cell or just after
 * a character a spreadsheet may split the cell at: `;` (the list separator of many locales, where
 * Excel reads `7,a;=cmd()` as two fields, the second a formula, whatever the quotes say), a comma,
 * a tab (pasting splits at tabs) or a line break (where the quotes are not honoured).
 */
const FORMULA_TRIGGER = /(?<=^|[;,\t\r\n])(?=[=+\-@\t\r])/g;

/**
 * One CSV cell, safe to open in a spreadsheet: every place where a field could start with a formula
 * trigger gets a `'` (shown as text), and a cell with a delimiter, quote or line break is quoted.
 */
export function safeCsvCell(value: string): string {
  const text = value.replace(FORMULA_TRIGGER, "'");
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
