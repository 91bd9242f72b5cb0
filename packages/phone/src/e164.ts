import { ParseError, parsePhoneNumberWithError } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/max/metadata';
import { type E164, e164ToKey, isPhoneKey, keyToE164, type PhoneKey } from './brands.js';
import { normalizePhone } from './normalize.js';

// `+`, a first digit that is not 0, then up to 14 more digits: at most 15 in all (ITU-T E.164).
// The national part must have at least 2 digits, as libphonenumber-js demands.
const E164_SYNTAX = /^\+[1-9][0-9]{2,14}$/;

// Every country calling code the metadata knows: the geographic ones and the non-geographic
// ones (800 freephone, 882/883 international networks, …), which live apart in the metadata.
const CALLING_CODES: ReadonlySet<string> = new Set([
  ...Object.keys(metadata.country_calling_codes),
  ...Object.keys(metadata.nonGeographic ?? {}),
]);

// Country calling codes have 1 to 3 digits.
const MAX_CALLING_CODE_LENGTH = 3;
const MIN_NATIONAL_LENGTH = 2;

/**
 * Reads a platform index entry that must already be E.164: `+`, a country calling code the
 * metadata knows (non-geographic codes included), at most 15 digits, nothing else (no spaces or
 * separators). Returns its key, or undefined when the text is not exactly that. Says nothing
 * about validity: see {@link isValidE164}.
 */
export function parseE164Strict(text: string): PhoneKey | undefined {
  if (!E164_SYNTAX.test(text)) return undefined;
  // Calling codes are prefix-free (no code is the start of another), so the first match is the
  // only one.
  for (let length = 1; length <= MAX_CALLING_CODE_LENGTH; length++) {
    if (CALLING_CODES.has(text.slice(1, 1 + length))) {
      return text.length - 1 - length >= MIN_NATIONAL_LENGTH ? e164ToKey(text as E164) : undefined;
    }
  }
  return undefined;
}

/**
 * True when the key is a valid number (a range in use) under libphonenumber-js's max metadata.
 * An index entry for which this is false can never be matched by a normalised upload.
 *
 * Runs the normaliser's compiled fast path on `+E.164` (whatever it is unsure of goes to
 * libphonenumber-js): valid exactly when the number normalises to itself. A test holds it equal
 * to {@link isValidE164Reference}.
 */
export function isValidE164(key: PhoneKey): boolean {
  if (!isPhoneKey(key)) return false;
  // The default country is irrelevant to a cell that starts with `+`; any known one will do.
  const result = normalizePhone(keyToE164(key), E164_READING);
  return result.ok && result.key === key;
}

const E164_READING = { defaultCountry: 'US' } as const;

/** {@link isValidE164} by libphonenumber-js alone: `parsePhoneNumber(+E.164).isValid()`. */
export function isValidE164Reference(key: PhoneKey): boolean {
  if (!isPhoneKey(key)) return false;
  try {
    return parsePhoneNumberWithError(keyToE164(key), { extract: false }).isValid();
  } catch (error) {
    if (error instanceof ParseError) return false;
    throw error;
  }
}
