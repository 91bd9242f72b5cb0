// Surrounding whitespace a cell may carry: `\s` (which in JS includes NBSP, U+2000–U+200A,
// U+3000 and the BOM) plus the zero-width space and word joiner that spreadsheets leave behind.
const SURROUNDING_SPACE = /^[\s\u200B\u2060]+|[\s\u200B\u2060]+$/g;

/** A cell without its surrounding whitespace (internal to this package). */
export function trimCell(cell: string): string {
  return cell.replace(SURROUNDING_SPACE, '');
}
