import { InvalidArgumentError } from '@rollcall/errors';
import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';
import { ParseError, parsePhoneNumberWithError, validatePhoneNumberLength } from 'libphonenumber-js/max';
import { type E164, e164ToKey, type PhoneKey } from './brands.js';
import { assertCountry } from './country.js';
import { type RejectReason, reasonCode } from './reasons.js';
import { trimCell } from './text.js';

/** Options of {@link normalizePhone}. */
export interface NormalizeOptions {
  /** The country whose national format, trunk prefix and IDD prefix cells may be written in. */
  readonly defaultCountry: CountryCode;
}

/** A cell normalised: its E.164 and key, or why it was rejected. */
export type NormalizeResult =
  | { readonly ok: true; readonly e164: E164; readonly key: PhoneKey }
  | { readonly ok: false; readonly reason: RejectReason };

/** The typed arrays {@link normalizeBatch} fills: one key and one reason code per cell. */
export interface NormalizeBatchOutput {
  /** The key of cell i, or 0 when it was rejected. */
  readonly keys: Float64Array;
  /** The reason code of cell i (see `reasonCode`), or 0 when it is valid. */
  readonly reasons: Uint8Array;
}

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

const REJECTED: Readonly<Record<RejectReason, NormalizeResult>> = {
  EMPTY: Object.freeze({ ok: false, reason: 'EMPTY' }),
  NOT_A_NUMBER: Object.freeze({ ok: false, reason: 'NOT_A_NUMBER' }),
  TOO_SHORT: Object.freeze({ ok: false, reason: 'TOO_SHORT' }),
  TOO_LONG: Object.freeze({ ok: false, reason: 'TOO_LONG' }),
  INVALID_COUNTRY: Object.freeze({ ok: false, reason: 'INVALID_COUNTRY' }),
  INVALID_NUMBER: Object.freeze({ ok: false, reason: 'INVALID_NUMBER' }),
  NOT_A_HASH: Object.freeze({ ok: false, reason: 'NOT_A_HASH' }),
  MALFORMED_ROW: Object.freeze({ ok: false, reason: 'MALFORMED_ROW' }),
};

/**
 * Normalises one upload cell to E.164 under libphonenumber-js's max metadata, or says why it is
 * rejected. Returns `{ ok: true, e164, key }` or `{ ok: false, reason }`; bad rows never throw.
 * Throws `InvalidArgumentError` (`ERR_UNKNOWN_COUNTRY`) when `defaultCountry` is unknown.
 *
 * The hot-path entry point. For now it is {@link normalizePhoneReference}; a faster path may
 * replace it, and must then agree with the reference on every input.
 */
export function normalizePhone(cell: string, options: NormalizeOptions): NormalizeResult {
  return normalizePhoneReference(cell, options);
}

/**
 * The reference normaliser: libphonenumber-js (max metadata) at every step, no shortcuts.
 * Same contract as {@link normalizePhone}, which must give identical results.
 *
 * Rules: trim surrounding whitespace; a `tel:` URI (RFC 3966) is reduced to its number
 * (`phone-context` of the form `+CC` is prepended to a local number, `ext` kept, other params
 * dropped); a leading full-width plus is a plus, and so is one just inside a leading bracket
 * (`(+44) 7400 123456`); the text must be a phone number as a whole (nothing is extracted from
 * free text); it is read in the default country (which covers E.164, international spellings,
 * national with or without trunk prefix and the country's IDD prefix). When that reading is
 * not valid and the text starts with a digit, it is read once more with `+` prepended (a
 * country code written without `+`); that second reading is used only if valid. Nothing
 * invalid is fixed.
 */
export function normalizePhoneReference(cell: string, options: NormalizeOptions): NormalizeResult {
  return normalizeIn(cell, assertCountry(options.defaultCountry));
}

/**
 * Normalises many cells into typed arrays, the form the join's hot path uses: `keys[i]` is the
 * key of cell i or 0, `reasons[i]` its reason code or 0. Fills and returns `out` when given
 * (each array at least `cells.length` long), otherwise new arrays. Same results as
 * {@link normalizePhone} cell by cell.
 */
export function normalizeBatch(
  cells: readonly string[],
  options: NormalizeOptions,
  out?: NormalizeBatchOutput,
): NormalizeBatchOutput {
  const country = assertCountry(options.defaultCountry);
  const n = cells.length;
  const target = out ?? { keys: new Float64Array(n), reasons: new Uint8Array(n) };
  if (!(target.keys instanceof Float64Array) || target.keys.length < n) {
    throw new InvalidArgumentError('out.keys', `must be a Float64Array of at least ${n} elements`);
  }
  if (!(target.reasons instanceof Uint8Array) || target.reasons.length < n) {
    throw new InvalidArgumentError('out.reasons', `must be a Uint8Array of at least ${n} elements`);
  }
  const { keys, reasons } = target;
  for (let i = 0; i < n; i++) {
    const result = normalizeIn(cells[i]!, country);
    if (result.ok) {
      keys[i] = result.key;
      reasons[i] = 0;
    } else {
      keys[i] = 0;
      reasons[i] = reasonCode(result.reason);
    }
  }
  return target;
}

/** The reference rules for one cell, the country already checked. */
function normalizeIn(cell: string, country: CountryCode): NormalizeResult {
  const text = trimCell(cell);
  if (text === '') return REJECTED.EMPTY;

  let candidate = text;
  if (TEL_SCHEME.test(text)) {
    const number = telUriNumber(text.slice(4));
    if (number === undefined) return REJECTED.NOT_A_NUMBER;
    candidate = number;
  }
  candidate = candidate.replace(BRACKETED_PLUS, '$2$1').replace(FULL_WIDTH_PLUS, '+');

  const asWritten = readNumber(candidate, country);
  if (asWritten.ok || !STARTS_WITH_DIGIT.test(candidate)) return asWritten;

  // A country code written without `+` (`447400925334` uploaded as KE). The national reading
  // came first and was not valid; only a valid second reading is taken, and when neither is
  // valid the reason is the first reading's, since that is how the cell was written.
  const withPlus = readNumber(`+${candidate}`, country);
  return withPlus.ok ? withPlus : asWritten;
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
 * One reading of `text` in `country` by libphonenumber-js, never extracting from free text.
 *
 * Reason mapping (see README of libphonenumber-js for the error names):
 * - `ParseError` `NOT_A_NUMBER` (no viable number: letters, formulas, symbols, `+` alone,
 *   `++44 20`, an invalid `phone-context`) → NOT_A_NUMBER.
 * - `ParseError` `INVALID_COUNTRY` (a `+` with no known country calling code) → INVALID_COUNTRY.
 * - `ParseError` `TOO_SHORT` / `TOO_LONG` (fewer than 2 or more than 17 national digits; or a
 *   text over 250 characters, see below) → TOO_SHORT / TOO_LONG.
 * - Parsed but `isValid()` false: `validatePhoneNumberLength` decides. `TOO_SHORT` /
 *   `TOO_LONG` (shorter or longer than every possible length of that country) → TOO_SHORT /
 *   TOO_LONG; `INVALID_LENGTH` (between the shortest and longest but not a possible length)
 *   and a possible length (no result) → INVALID_NUMBER: plausible, but not a real range.
 * - Texts over 250 characters: libphonenumber-js says TOO_LONG whatever they hold; we say
 *   NOT_A_NUMBER if their first 250 characters are not a number, TOO_LONG otherwise.
 */
function readNumber(text: string, country: CountryCode): NormalizeResult {
  if (text.length > MAX_INPUT_LENGTH) {
    const head = readNumber(text.slice(0, MAX_INPUT_LENGTH), country);
    return !head.ok && head.reason === 'NOT_A_NUMBER' ? head : REJECTED.TOO_LONG;
  }
  let phone: PhoneNumber;
  try {
    // `extract: false`: the whole text must be the number. By default libphonenumber-js would
    // find `0771234567` inside `call me on 0771234567`; a customer list must not be guessed at.
    phone = parsePhoneNumberWithError(text, { defaultCountry: country, extract: false });
  } catch (error) {
    if (error instanceof ParseError) return REJECTED[parseErrorReason(error.message)];
    throw error;
  }
  if (phone.isValid()) {
    const e164 = phone.number as E164;
    return { ok: true, e164, key: e164ToKey(e164) };
  }
  return REJECTED[lengthReason(validatePhoneNumberLength(text, { defaultCountry: country }))];
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
