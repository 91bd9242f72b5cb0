/**
 * The one redaction policy of rollcall: every message, reject example, report field, HTML page and
 * CLI line that could quote a phone number or a user id goes through {@link redactPhone} (directly
 * or through the two helpers below, which only decide *what* to redact).
 *
 * What it promises: the output never holds the whole number, and it never tells the number's
 * length: every redaction is exactly {@link REDACTED_LENGTH} code points, whatever it hides.
 */
import { trimCell } from './text.js';

// What a log may show of a phone-like text: enough to tell cells apart, never the number.
const KEEP_START = 5;
const KEEP_END = 2;
const HIDDEN = '•••••';
// Below this many characters, keeping 7 would hide too little (fewer than 4): mask it all.
const MIN_LENGTH_TO_KEEP_ENDS = KEEP_START + KEEP_END + 4;

/** The length, in code points, of every text {@link redactPhone} returns. */
export const REDACTED_LENGTH = KEEP_START + HIDDEN.length + KEEP_END;

// A fully masked text is as wide as one with its ends kept: a mask's width tells nothing.
const FULLY_MASKED = '•'.repeat(REDACTED_LENGTH);

/**
 * A decimal digit of any script (Unicode `Nd`): ASCII, full-width, Arabic-Indic, Persian — the
 * ones libphonenumber-js reads — and every other script's, which a human reads as well.
 */
const DIGIT = /\p{Nd}/gu;

/**
 * A run of digits that may spell a phone number or a user id: digits of any script, with the
 * separators numbers are written with (spaces, no-break spaces, `(` `)` `.` `-` `/`), after an
 * optional plus sign (ASCII or full-width).
 */
const DIGIT_RUN = /[+＋]?\p{Nd}[\p{Nd} \u00a0().\-/]*\p{Nd}/gu;

/**
 * Redacts a phone number (or any cell) for logs, messages and reports: keeps the first 5 and
 * last 2 characters (code points) of the trimmed text with `•••••` between
 * (`+263712345637` → `+2637•••••37`); a text shorter than 11 characters becomes 12 `•`. Either
 * way the result is {@link REDACTED_LENGTH} code points long, so it tells nothing of the length.
 */
export function redactPhone(text: string): string {
  // Code points, not UTF-16 units, so that an emoji is never cut in half.
  const chars = Array.from(trimCell(String(text)));
  if (chars.length < MIN_LENGTH_TO_KEEP_ENDS) return FULLY_MASKED;
  return chars.slice(0, KEEP_START).join('') + HIDDEN + chars.slice(-KEEP_END).join('');
}

/** The number of decimal digits of any script (Unicode `Nd`) in `text`. */
export function countDigits(text: string): number {
  return text.match(DIGIT)?.length ?? 0;
}

/**
 * A text that is usually not a number (a header, a column name) as a message may show it: as is
 * when it holds fewer than `minDigits` digits of any script, else through {@link redactPhone}
 * (a file without a header row has a phone number where the header should be).
 */
export function redactIfNumeric(text: string, minDigits = 5): string {
  return countDigits(text) >= minDigits ? redactPhone(text) : text;
}

/**
 * `text` with every run of digits (any script, with phone separators) that holds `minDigits`
 * digits or more replaced by its {@link redactPhone} form; shorter runs (sizes, limits, line
 * numbers) are kept. The last line of defence for free text such as an error message.
 */
export function redactDigitRuns(text: string, minDigits = 8): string {
  return text.replace(DIGIT_RUN, (run) => (countDigits(run) >= minDigits ? redactPhone(run) : run));
}
