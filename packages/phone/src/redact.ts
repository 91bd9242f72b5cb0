import { trimCell } from './text.js';

// What a log may show of a phone-like text: enough to tell cells apart, never the number.
const KEEP_START = 5;
const KEEP_END = 2;
// The mask has a fixed width so that it does not tell the length of what it hides either.
const MASK = '•••••';
// Below this many characters, keeping 7 would hide too little (fewer than 4): mask it all.
const MIN_LENGTH_TO_KEEP_ENDS = KEEP_START + KEEP_END + 4;

/**
 * Redacts a phone number (or any cell) for logs and error messages: keeps the first 5 and last
 * 2 characters of the trimmed text and replaces the middle with `•••••`
 * (`+263712345637` → `+2637•••••37`); a text shorter than 11 characters becomes `•••••`.
 */
export function redactPhone(text: string): string {
  // Code points, not UTF-16 units, so that an emoji is never cut in half.
  const chars = Array.from(trimCell(String(text)));
  if (chars.length < MIN_LENGTH_TO_KEEP_ENDS) return MASK;
  return chars.slice(0, KEEP_START).join('') + MASK + chars.slice(-KEEP_END).join('');
}
