import { InvalidArgumentError } from '@rollcall/errors';
import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';
import { ParseError, parsePhoneNumberWithError, validatePhoneNumberLength } from 'libphonenumber-js/max';
import { type E164, e164ToKey } from './brands.js';
import { assertCountry } from './country.js';
import { normalizeFast } from './fast.js';
import { countryPlan, metadataCompilable, type Plan } from './plans.js';
import { type RejectReason, reasonCode } from './reasons.js';
import { type NormalizeResult, REJECTED } from './result.js';
import { trimCell } from './text.js';

/** Options of {@link normalizePhone}. */
export interface NormalizeOptions {
  /** The country whose national format, trunk prefix and IDD prefix cells may be written in. */
  readonly defaultCountry: CountryCode;
}

export type { NormalizeResult } from './result.js';

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

/**
 * Normalises one upload cell to E.164 under libphonenumber-js's max metadata, or says why it is
 * rejected. Returns `{ ok: true, e164, key }` or `{ ok: false, reason }`; bad rows never throw.
 * Throws `InvalidArgumentError` (`ERR_UNKNOWN_COUNTRY`) when `defaultCountry` is unknown.
 *
 * The hot-path entry point: the same result as {@link normalizePhoneReference} on every input
 * (a differential test holds it to that), several times faster. Plain cells (digits, a leading
 * `+`, separators) take a fast path that replays libphonenumber-js's steps on metadata compiled
 * once; any other cell, or one the fast path is not sure of, goes to the reference.
 */
export function normalizePhone(cell: string, options: NormalizeOptions): NormalizeResult {
  return normalizeWith(cell, homePlan(options.defaultCountry));
}

/** One cell with the fast path, then the reference when the fast path is not sure. */
function normalizeWith(cell: string, home: Plan): NormalizeResult {
  // A cell that is not a string fails in the reference exactly as it always did.
  if (typeof cell !== 'string') return normalizeIn(cell, home.country as CountryCode);
  const fast = metadataCompilable ? normalizeFast(cell, home) : undefined;
  if (fast !== undefined) return fast;
  if (home !== cachePlan) {
    rejectedCache.clear();
    cachePlan = home;
  }
  const cached = rejectedCache.get(cell);
  if (cached !== undefined) return cached;
  const result = normalizeIn(cell, home.country as CountryCode);
  if (!result.ok && cell.length <= MAX_CACHED_CELL_LENGTH) {
    if (rejectedCache.size >= MAX_CACHED_CELLS) rejectedCache.clear();
    rejectedCache.set(cell, result);
  }
  return result;
}

// The cells the fast path left to the reference and the reference rejected, for one default
// country: uploads repeat the same junk (a formula, `ask 2nd office`, `0712 x 2`) thousands of
// times, and the reference pays for a thrown ParseError each time. Rejections are shared frozen
// values, so a hit hands out nothing a caller could change. Bounded: cleared when full (per
// thread, at most MAX_CACHED_CELLS strings of at most MAX_CACHED_CELL_LENGTH characters).
const MAX_CACHED_CELLS = 1024;
const MAX_CACHED_CELL_LENGTH = 64;
const rejectedCache = new Map<string, NormalizeResult>();
let cachePlan: Plan | undefined;

// The default country last checked, and its compiled plan: callers pass the same one on every
// call, and `assertCountry` (trim, upper-case, look-up) would otherwise run per cell.
let lastCountry: unknown;
let lastPlan: Plan | undefined;

/** The compiled plan of a default country given by a caller; throws as `assertCountry` does. */
function homePlan(defaultCountry: string): Plan {
  if (defaultCountry !== lastCountry || lastPlan === undefined) {
    const plan = countryPlan(assertCountry(defaultCountry));
    lastCountry = defaultCountry;
    lastPlan = plan;
  }
  return lastPlan;
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
  const home = homePlan(options.defaultCountry);
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
    const result = normalizeWith(cells[i]!, home);
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
  forgetPhoneContext(text);
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
