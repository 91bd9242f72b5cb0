import { redactIfNumeric } from '@rollcall/phone';

/** Longest header shown in a message; longer ones are cut with `…`. */
const SHOWN_HEADER_CHARS = 40;

/**
 * A header as shown in a message: quoted, cut when long, and redacted (through the phone
 * package's one redaction policy) when it looks like data: five digits or more of any script,
 * since a file without a header row has a phone number there.
 */
export function showHeader(header: string): string {
  let shown = redactIfNumeric(header);
  if (shown.length > SHOWN_HEADER_CHARS) shown = `${shown.slice(0, SHOWN_HEADER_CHARS)}…`;
  return JSON.stringify(shown);
}

/** The headers as a comma-separated list for a message (at most 50 shown). */
export function showHeaders(headers: readonly string[]): string {
  const shown = headers.slice(0, 50).map(showHeader).join(', ');
  return headers.length > 50 ? `${shown}, … (${headers.length} columns)` : shown;
}
