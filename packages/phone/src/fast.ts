import {
  type CallingCodeEntry,
  callingCodeEntry,
  checkLength,
  isValidIn,
  type Plan,
  planOfNumber,
} from './plans.js';
import { accepted, isValidReading, type NormalizeResult, REJECTED } from './result.js';
import { trimCell } from './text.js';

/**
 * The fast path of `normalizePhone` (internal to this package): the reference's rules and
 * libphonenumber-js's own parsing steps, replayed on compiled metadata (see plans.ts) for the
 * cells whose text is plain: digits, an optional leading `+`, and the separators
 * `space - . ( ) [ ] /`. Each step below names the library function it mirrors (source/*.js
 * of libphonenumber-js), because the results must be the same to the last reason code.
 * Anything else (letters, other Unicode, `;`, extensions, text over 200 characters) returns
 * undefined and goes to the reference; but a text without any digit is NOT_A_NUMBER whatever
 * it holds.
 */

const ZERO = 0x30;
const NINE = 0x39;
const PLUS = 0x2b;
const FULL_WIDTH_PLUS = 0xff0b;
const SPACE = 0x20;
const OPEN_PAREN = 0x28;
const OPEN_SQUARE = 0x5b;

// libphonenumber-js's limits (source/constants.js).
const MIN_LENGTH_FOR_NSN = 2;
const MAX_LENGTH_FOR_NSN = 17;
const MAX_LENGTH_COUNTRY_CODE = 3;

// Longer texts go to the reference: its 250-character rules then apply, `+` prepended included.
const MAX_FAST_LENGTH = 200;

// libphonenumber-js's viability test (`isViablePhoneNumber`) wants at least 3 digits, or exactly
// 2 digits and nothing else (`VALID_PHONE_NUMBER_PATTERN`).
const MIN_VIABLE_DIGITS = 3;
const MIN_LENGTH_PHONE_NUMBER = 2;

// `isViablePhoneNumberStart` restricted to plain text: a non-viable text that is a plus and one
// or two digits with separators before them is TOO_SHORT; anything else NOT_A_NUMBER.
const VIABLE_START = /^\+?(?:[ \-.()[\]/]*[0-9]){1,2}$/;

// The characters a digit can be written in (`VALID_DIGITS`), and `;` (which starts an RFC 3966
// `phone-context`, the only way digits can come from elsewhere than the text).
const DIGIT_OR_SEMICOLON = /[0-9\uFF10-\uFF19\u0660-\u0669\u06F0-\u06F9;]/;

const NON_DIGITS = /[^0-9]/g;

/**
 * The reference's result for `cell` read in the country of `home` (undefined: no country, so
 * national numbers are INVALID_COUNTRY), refusing guessed international readings when
 * `strict`; or undefined when the cell is not plain enough to be sure.
 */
export function normalizeFast(
  cell: string,
  home: Plan | undefined,
  strict: boolean,
): NormalizeResult | undefined {
  let text = cell;
  const length = cell.length;
  if (length === 0) return REJECTED.EMPTY;
  // Only trim when an end could be whitespace: `trimCell` is a regular expression.
  const first = cell.charCodeAt(0);
  const last = cell.charCodeAt(length - 1);
  if (first <= SPACE || first >= 0x80 || last <= SPACE || last >= 0x80) {
    text = trimCell(cell);
    if (text === '') return REJECTED.EMPTY;
  }
  if (text.length > MAX_FAST_LENGTH) return undefined;

  // `tel:` URI without parameters: the reference reads what follows the scheme, as it is.
  let candidate = text;
  const c0 = text.charCodeAt(0);
  // `/^tel:/i` compared code by code: only ASCII letters fold to `t`, `e`, `l` there.
  if (
    (c0 | 0x20) === 0x74 &&
    (text.charCodeAt(1) | 0x20) === 0x65 &&
    (text.charCodeAt(2) | 0x20) === 0x6c &&
    text.charCodeAt(3) === 0x3a
  ) {
    candidate = text.slice(4);
    if (candidate.indexOf(';') >= 0) return undefined;
    if (candidate === '') return REJECTED.NOT_A_NUMBER;
  }

  // One pass over the candidate: where the plus is, and whether every character is plain.
  const n = candidate.length;
  let plus = false;
  let start = 0;
  // Index of a plus just inside a leading bracket (`(+44) …`), which the reference moves in
  // front; -1 if none.
  let bracketedPlus = -1;
  const k0 = candidate.charCodeAt(0);
  if (k0 === PLUS || k0 === FULL_WIDTH_PLUS) {
    plus = true;
    start = 1;
  } else if (k0 === OPEN_PAREN || k0 === OPEN_SQUARE) {
    let j = 1;
    while (j < n && candidate.charCodeAt(j) === SPACE) j++;
    const kj = candidate.charCodeAt(j);
    if (kj === PLUS || kj === FULL_WIDTH_PLUS) {
      plus = true;
      bracketedPlus = j;
    }
  }
  let digitCount = 0;
  let separators = start > 0 || bracketedPlus >= 0;
  for (let i = start; i < n; i++) {
    const c = candidate.charCodeAt(i);
    if (c >= ZERO && c <= NINE) {
      digitCount++;
      continue;
    }
    separators = true;
    // Visual separators libphonenumber-js drops (a subset of its `VALID_PUNCTUATION` that no
    // extension pattern uses).
    if (c === SPACE || c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29 || c === 0x5b || c === 0x5d)
      continue;
    if (c === 0x2f) continue;
    if (i === bracketedPlus) continue;
    // Not plain. A text without any digit (and no `;`) is not a number whatever else it holds.
    return DIGIT_OR_SEMICOLON.test(text) ? undefined : REJECTED.NOT_A_NUMBER;
  }
  if (digitCount === 0) return REJECTED.NOT_A_NUMBER;
  const digits = separators ? candidate.replace(NON_DIGITS, '') : candidate;
  if (digitCount < MIN_VIABLE_DIGITS) {
    // Two bare digits are viable and parsed; anything shorter is not, and its reason comes from
    // the text with the plus moved to the front as the reference does. Neither reading can be
    // valid (the `+` one would be a calling code with at most one digit after it), so the
    // result is the first reading's.
    if (!separators && digitCount === MIN_LENGTH_PHONE_NUMBER) return readDigits(digits, false, home, false);
    const rewritten =
      bracketedPlus >= 0
        ? `+${candidate.slice(0, bracketedPlus)}${candidate.slice(bracketedPlus + 1)}`
        : start > 0
          ? `+${candidate.slice(1)}`
          : candidate;
    return VIABLE_START.test(rewritten) ? REJECTED.TOO_SHORT : REJECTED.NOT_A_NUMBER;
  }

  // normalizeIn: the reading as written; when it is not valid and the text starts with a digit,
  // the reading with `+` prepended, taken only if valid (and flagged as a guess), or refused
  // as MISSING_PLUS when strict.
  const asWritten = readDigits(digits, plus, home, false);
  if (isValidReading(asWritten) || plus || !(k0 >= ZERO && k0 <= NINE)) return asWritten;
  const withPlus = readDigits(digits, true, home, true);
  if (!isValidReading(withPlus)) return asWritten;
  return strict ? REJECTED.MISSING_PLUS : withPlus;
}

/**
 * `parsePhoneNumberWithError(text, { defaultCountry, extract: false })`, then `isValid()`, and
 * for an invalid number the reason `validatePhoneNumberLength` gives, for a viable text without
 * extension whose digits are `digits` (a leading `+` when `plus`). `home` undefined: no default
 * country. `guess`: a valid result is flagged as read international after failing as national.
 */
function readDigits(digits: string, plus: boolean, home: Plan | undefined, guess: boolean): NormalizeResult {
  // extractCountryCallingCode
  let number = digits;
  let international = plus;
  let entry: CallingCodeEntry | undefined;
  let callingCode = '';
  if (!plus && home !== undefined) {
    // stripIddPrefix: the default country's IDD prefix at the start, not followed by a 0.
    const idd = home.idd;
    idd.lastIndex = 0;
    const match = idd.exec(digits);
    if (match !== null) {
      const after = digits.slice(match[0].length);
      if (after !== '' && after !== digits && after.charCodeAt(0) !== ZERO) {
        international = true;
        number = after;
      }
    }
    if (!international) {
      // extractCountryCallingCodeFromInternationalNumberWithoutPlusSign
      const shorter = withoutCallingCode(digits, home);
      if (shorter !== undefined) {
        callingCode = home.callingCode;
        entry = callingCodeEntry(home.callingCodeValue);
        number = shorter;
      }
    }
  }
  if (international) {
    // Country calling codes never start with 0 and are prefix-free: the first known one is it.
    if (number.charCodeAt(0) === ZERO) return REJECTED.INVALID_COUNTRY;
    const max = Math.min(number.length, MAX_LENGTH_COUNTRY_CODE);
    let value = 0;
    let length = 0;
    while (length < max) {
      value = value * 10 + (number.charCodeAt(length) - ZERO);
      length++;
      entry = callingCodeEntry(value);
      if (entry !== undefined) break;
    }
    if (entry === undefined) return REJECTED.INVALID_COUNTRY;
    callingCode = number.slice(0, length);
    number = number.slice(length);
  }

  // parsePhoneNumber (parse.js): a calling code selects its main plan; none means the default
  // country, whose plan stays selected unless the number turns out to be another country's.
  let plan: Plan;
  if (entry === undefined) {
    // With no default country, a number without `+` selects no numbering plan: parse() throws
    // INVALID_COUNTRY before it looks at the length.
    if (home === undefined) return REJECTED.INVALID_COUNTRY;
    plan = home;
    callingCode = plan.callingCode;
    entry = callingCodeEntry(plan.callingCodeValue)!;
  } else {
    plan = entry.plan;
  }
  if (number === '') return REJECTED.TOO_SHORT;
  const nationalNumber = extractNationalNumber(number, plan);
  plan = planOfNumber(entry, nationalNumber) ?? plan;

  // parse(): the national number's length limits, then PhoneNumber#isValid().
  if (nationalNumber.length < MIN_LENGTH_FOR_NSN) return REJECTED.TOO_SHORT;
  if (nationalNumber.length > MAX_LENGTH_FOR_NSN) return REJECTED.TOO_LONG;
  if (isValidIn(plan, nationalNumber)) return accepted(`+${callingCode}${nationalNumber}`, guess);

  // validatePhoneNumberLength: the same parse, then checkNumberLength in the same plan.
  const check = checkLength(plan, nationalNumber);
  if (check === 'TOO_SHORT') return REJECTED.TOO_SHORT;
  if (check === 'TOO_LONG') return REJECTED.TOO_LONG;
  return REJECTED.INVALID_NUMBER;
}

/**
 * extractCountryCallingCodeFromInternationalNumberWithoutPlusSign: the default country's
 * calling code written without `+` (`2547…` in KE). Returns the digits after it when the
 * library takes it as one, else undefined.
 */
function withoutCallingCode(digits: string, home: Plan): string | undefined {
  const code = home.callingCode;
  if (!digits.startsWith(code)) return undefined;
  const shorter = digits.slice(code.length);
  const shorterNational = extractNationalNumber(shorter, home);
  const national = extractNationalNumber(digits, home);
  if (
    (!home.nationalNumber.test(national) && home.nationalNumber.test(shorterNational)) ||
    checkLength(home, national) === 'TOO_LONG'
  ) {
    return shorter;
  }
  return undefined;
}

/**
 * extractNationalNumber: strips the national (trunk) prefix and carrier code, unless the
 * number fitted the national pattern before and not after, or what is left has an impossible
 * length for the country it would belong to.
 */
function extractNationalNumber(number: string, plan: Plan): string {
  const national = stripNationalPrefix(number, plan);
  if (national === number) return number;
  if (plan.nationalNumber.test(number) && !plan.nationalNumber.test(national)) return number;
  if (plan.possibleLengths !== undefined) {
    const entry = callingCodeEntry(plan.callingCodeValue);
    const check = checkLength((entry && planOfNumber(entry, national)) ?? plan, national);
    if (check === 'TOO_SHORT' || check === 'INVALID_LENGTH') return number;
  }
  return national;
}

/**
 * extractNationalNumberFromPossiblyIncompleteNumber: `national_prefix_for_parsing` at the
 * start; with capturing groups and a transform rule the number is rewritten by the rule,
 * otherwise the match is cut off.
 */
function stripNationalPrefix(number: string, plan: Plan): string {
  const prefix = plan.nationalPrefixForParsing;
  if (number === '' || prefix === undefined) return number;
  const match = prefix.exec(number);
  if (match === null) return number;
  const groups = match.length - 1;
  // The library looks at the last group only.
  const captured = groups > 0 && Boolean(match[groups]);
  if (captured && plan.nationalPrefixTransformRule !== undefined) {
    return number.replace(prefix, plan.nationalPrefixTransformRule);
  }
  return number.slice(match[0].length);
}

/**
 * The countries of a country calling code, main one first (`getCountryCodesForCallingCode`); null
 * for a non-geographic code (`+800`, `+882`…); undefined when the metadata knows no such code.
 */
export function callingCodeCountries(callingCode: number): readonly string[] | null | undefined {
  const entry = callingCodeEntry(callingCode);
  return entry === undefined ? undefined : (entry.countries ?? null);
}

/**
 * The region libphonenumber-js gives the number `+<callingCode><digits>` (`parsePhoneNumber(…)
 * .country`), from the compiled plans: the code's one country; for a code several countries share,
 * the first whose leading digits or number types fit the national number (after the main plan's
 * national prefix, as parsing strips it); undefined for a non-geographic code or when none fits.
 */
export function regionOfNumber(callingCode: number, digits: string): string | undefined {
  const entry = callingCodeEntry(callingCode);
  if (entry === undefined || entry.countries === undefined) return undefined;
  if (entry.countries.length === 1) return entry.countries[0];
  return planOfNumber(entry, extractNationalNumber(digits, entry.plan))?.country;
}
