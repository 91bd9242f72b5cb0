import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';
import { ParseError, parsePhoneNumberWithError, validatePhoneNumberLength } from 'libphonenumber-js/max';
import type { RejectReason } from './reasons.js';
import { accepted, isValidReading, type NormalizeResult, REJECTED } from './result.js';
import { trimCell } from './text.js';

/**
 * The reference normaliser's rules (internal to this package): libphonenumber-js (max
 * metadata) at every step, no shortcuts. `normalizePhoneReference` documents them; the fast
 * path (fast.ts) must give the same result on every cell.
 */

// libphonenumber-js refuses input longer than this (a guard against CPU abuse) with TOO_LONG,
// whatever the text; we look at the first this-many characters to tell junk from digits.
const MAX_INPUT_LENGTH = 250;

// A cell that starts with a digit (ASCII, full-width, Arabic-Indic or Eastern Arabic-Indic, as
// libphonenumber-js reads them) may be a country code written without `+`.
const STARTS_WITH_DIGIT = /^[0-9\uFF10-\uFF19\u0660-\u0669\u06F0-\u06F9]/;

const TEL_SCHEME = /^tel:/i;

// libphonenumber-js drops a full-width plus (U+FF0B) and then reads the digits as a national
// number; Google's libphonenumber (and any reader) takes it for `+`. Only a leading one counts.
const FULL_WIDTH_PLUS = /^\uFF0B/;

// `(+44) 7400 123456`: an international spelling with the country code in brackets, plus sign
// included. libphonenumber-js (without extraction) only reads a plus in front, so the plus is
// moved before the bracket: `+(44) 7400 123456`. The same characters, nothing dropped.
const BRACKETED_PLUS = /^([([]\s*)([+\uFF0B])/;

// RFC 3966 `phone-context`: a global number prefix (`+` and digits with visual separators) or a
// domain name. Anything else makes the URI malformed.
const PHONE_CONTEXT_GLOBAL = /^\+[-.()]*[0-9][-.()0-9]*$/;
const PHONE_CONTEXT_DOMAIN =
  /^(?:[0-9A-Za-z](?:[-0-9A-Za-z]*[0-9A-Za-z])?\.)*[A-Za-z](?:[-0-9A-Za-z]*[0-9A-Za-z])?\.?$/;

/**
 * The reference rules for one cell, the country already checked (undefined: no country, so a
 * national number is INVALID_COUNTRY); `strict` refuses a guessed international reading.
 */
export function normalizeIn(
  cell: string,
  country: CountryCode | undefined,
  strict: boolean,
): NormalizeResult {
  const text = trimCell(cell);
  if (text === '') return REJECTED.EMPTY;

  let candidate = text;
  if (TEL_SCHEME.test(text)) {
    const number = telUriNumber(text.slice(4));
    if (number === undefined) return REJECTED.NOT_A_NUMBER;
    candidate = number;
  }
  candidate = candidate.replace(BRACKETED_PLUS, '$2$1').replace(FULL_WIDTH_PLUS, '+');

  const asWritten = readNumber(candidate, country, false);
  // A valid number of more than 15 digits is still the number the cell names: no second reading.
  if (isValidReading(asWritten) || !STARTS_WITH_DIGIT.test(candidate)) return asWritten;

  // A country code written without `+` (`447400925334` uploaded as KE). The national reading
  // came first and was not valid; only a valid second reading is taken (flagged: a guess), and
  // when neither is valid the reason is the first reading's, since that is how the cell was
  // written. Strict mode refuses the guess: MISSING_PLUS says what would have been read.
  const withPlus = readNumber(`+${candidate}`, country, true);
  if (!isValidReading(withPlus)) return asWritten;
  return strict ? REJECTED.MISSING_PLUS : withPlus;
}

/**
 * The number an RFC 3966 `tel:` URI names, as text libphonenumber-js reads (the part after
 * `tel:`), or undefined when the URI is malformed.
 */
function telUriNumber(rest: string): string | undefined {
  const parts = rest.split(';');
  let number = parts[0]!;
  let context: string | undefined;
  let ext: string | undefined;
  for (let i = 1; i < parts.length; i++) {
    const param = parts[i]!;
    const eq = param.indexOf('=');
    const name = (eq < 0 ? param : param.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : param.slice(eq + 1);
    if (name === 'phone-context') {
      if (context !== undefined) return undefined;
      if (!PHONE_CONTEXT_GLOBAL.test(value) && !PHONE_CONTEXT_DOMAIN.test(value)) return undefined;
      context = value;
    } else if (name === 'ext') {
      if (ext !== undefined) return undefined;
      ext = value;
    }
    // `isub` and any other parameter say nothing about which number this is: ignored.
  }
  if (number === '') return undefined;
  // A `+CC` context completes a local number; a domain context leaves the local number to be
  // read in the default country. A global number (`+…`) needs no context.
  if (context?.startsWith('+') && !number.startsWith('+')) number = context + number;
  // The extension is handed back in a form libphonenumber-js recognises, so that it judges it.
  return ext === undefined ? number : `${number};ext=${ext}`;
}

/**
 * One reading of `text` in `country` (undefined: none) by libphonenumber-js, never extracting
 * from free text. `guess`: a valid result is flagged as read international after failing as
 * national.
 *
 * Reason mapping (see README of libphonenumber-js for the error names):
 * - `ParseError` `NOT_A_NUMBER` (no viable number: letters, formulas, symbols, `+` alone,
 *   `++44 20`, an invalid `phone-context`) → NOT_A_NUMBER.
 * - `ParseError` `INVALID_COUNTRY` (a `+` with no known country calling code; with no country,
 *   any number without `+`) → INVALID_COUNTRY.
 * - `ParseError` `TOO_SHORT` / `TOO_LONG` (fewer than 2 or more than 17 national digits; or a
 *   text over 250 characters, see below) → TOO_SHORT / TOO_LONG.
 * - Valid, but its E.164 has more than 15 digits → OVER_15_DIGITS.
 * - Parsed but `isValid()` false: `validatePhoneNumberLength` decides. `TOO_SHORT` /
 *   `TOO_LONG` (shorter or longer than every possible length of that country) → TOO_SHORT /
 *   TOO_LONG; `INVALID_LENGTH` (between the shortest and longest but not a possible length)
 *   and a possible length (no result) → INVALID_NUMBER: plausible, but not a real range.
 * - Texts over 250 characters: libphonenumber-js says TOO_LONG whatever they hold; we say
 *   NOT_A_NUMBER if their first 250 characters are not a number, TOO_LONG otherwise.
 */
function readNumber(text: string, country: CountryCode | undefined, guess: boolean): NormalizeResult {
  if (text.length > MAX_INPUT_LENGTH) {
    const head = readNumber(text.slice(0, MAX_INPUT_LENGTH), country, guess);
    return !head.ok && head.reason === 'NOT_A_NUMBER' ? head : REJECTED.TOO_LONG;
  }
  let phone: PhoneNumber;
  forgetPhoneContext(text);
  try {
    // `extract: false`: the whole text must be the number. By default libphonenumber-js would
    // find `0771234567` inside `call me on 0771234567`; a customer list must not be guessed at.
    phone = parsePhoneNumberWithError(text, { defaultCountry: country, extract: false });
  } catch (error) {
    if (error instanceof ParseError) return REJECTED[parseErrorReason(error.message)];
    throw error;
  }
  // A valid number of more than 15 digits comes back OVER_15_DIGITS.
  if (phone.isValid()) return accepted(phone.number, guess);
  forgetPhoneContext(text);
  return REJECTED[lengthReason(validatePhoneNumberLength(text, { defaultCountry: country }))];
}

// libphonenumber-js checks an RFC 3966 `phone-context` with two module-level RegExps built with
// the `g` flag (helpers/extractPhoneContext.js) and calls `.test()` on them: each success
// leaves `lastIndex` past the match, so the next check of any context starts mid-string and
// fails. Unfixed, a cell holding `;phone-context=` gets a result that depends on the cells read
// before it (catamphetamine/libphonenumber-js PR #498). A context that both patterns reject
// sends both `lastIndex` back to 0.
const PHONE_CONTEXT_PARAM = ';phone-context=';
const RESET_PHONE_CONTEXT = ';phone-context=!';

/**
 * Before libphonenumber-js reads a text holding a `phone-context`, puts its context patterns
 * back in their initial state, so that every cell is read as if it were the first.
 */
function forgetPhoneContext(text: string): void {
  if (!text.includes(PHONE_CONTEXT_PARAM)) return;
  try {
    parsePhoneNumberWithError(RESET_PHONE_CONTEXT, { extract: false });
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
  }
}

/** The reject reason of a libphonenumber-js `ParseError` message. */
function parseErrorReason(message: string): RejectReason {
  switch (message) {
    case 'INVALID_COUNTRY':
      return 'INVALID_COUNTRY';
    case 'TOO_SHORT':
      return 'TOO_SHORT';
    case 'TOO_LONG':
      return 'TOO_LONG';
    default:
      // NOT_A_NUMBER, and any message a later version may add: the text is not a number we read.
      return 'NOT_A_NUMBER';
  }
}

/** The reject reason of a parsed but invalid number, from `validatePhoneNumberLength`. */
function lengthReason(result: string | undefined): RejectReason {
  switch (result) {
    case 'TOO_SHORT':
      return 'TOO_SHORT';
    case 'TOO_LONG':
      return 'TOO_LONG';
    case 'INVALID_COUNTRY':
      return 'INVALID_COUNTRY';
    case 'NOT_A_NUMBER':
      return 'NOT_A_NUMBER';
    default:
      // INVALID_LENGTH, or a possible length (undefined): plausible but not a real number range.
      return 'INVALID_NUMBER';
  }
}
