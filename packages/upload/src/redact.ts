/**
 * Masks a value that may be personal data (a phone number) for an error message: keeps the
 * first 5 and last 2 characters with `•` between; shorter values are masked whole.
 */
export function redact(value: string): string {
  const chars = [...value];
  if (chars.length <= 9) return '•'.repeat(chars.length);
  const hidden = chars.length - 7;
  return `${chars.slice(0, 5).join('')}${'•'.repeat(Math.min(hidden, 8))}${chars.slice(-2).join('')}`;
}

/** Longest header shown in a message; longer ones are cut with `…`. */
const SHOWN_HEADER_CHARS = 40;

/**
 * A header as shown in a message: quoted, cut when long, and redacted when it looks like
 * data (five digits or more: a file without a header row has a phone number there).
 */
export function showHeader(header: string): string {
  const digits = header.replace(/\D/g, '').length;
  let shown = digits >= 5 ? redact(header) : header;
  if (shown.length > SHOWN_HEADER_CHARS) shown = `${shown.slice(0, SHOWN_HEADER_CHARS)}…`;
  return JSON.stringify(shown);
}

/** The headers as a comma-separated list for a message (at most 50 shown). */
export function showHeaders(headers: readonly string[]): string {
  const shown = headers.slice(0, 50).map(showHeader).join(', ');
  return headers.length > 50 ? `${shown}, … (${headers.length} columns)` : shown;
}
