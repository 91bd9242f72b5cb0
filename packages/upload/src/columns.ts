import { InputError, InvalidArgumentError } from '@rollcall/errors';
import { detectCountryColumn } from './country-column.js';
import { findHeader, headerPosition, headerWords } from './headers.js';
import { showHeader, showHeaders } from './redact.js';

/** Words that name a phone number on their own (accents removed, lower case). */
const PHONE_WORDS = new Set([
  'phone',
  'phones',
  'telephone',
  'tel',
  'telefon',
  'telefone',
  'telefono',
  'mobile',
  'mobiles',
  'mobil',
  'movil',
  'mob',
  'cell',
  'cellular',
  'cellphone',
  'celular',
  'handy',
  'msisdn',
  'whatsapp',
  'landline',
]);

/** Words that say "number" and name a phone only alone or after "contact". */
const NUMBER_WORDS = new Set(['number', 'numbers', 'no', 'nr', 'num', 'nummer', 'numero']);

/** Words that make a "number" header a phone header ("Contact number"). */
const CONTACT_WORDS = new Set(['contact', 'kontakt']);

/** Words that keep a phone header exact ("Phone (E164)"). */
const NEUTRAL_WORDS = new Set(['e164']);

/**
 * Words that only help split a glued header (`workphone` → work + phone, `homephone`); they count
 * as other words. A closed list: splitting any prefix off a phone word would read `microphone`,
 * `smartphone` and `automobile` as phone headers.
 */
const PREFIX_WORDS = [
  'home',
  'work',
  'business',
  'office',
  'private',
  'personal',
  'other',
  'alt',
  'alternate',
  'main',
  'primary',
  'secondary',
  'company',
  'day',
  'evening',
  'direct',
];

/**
 * Words that mean the column is not the person's own number, so it is never a candidate:
 * - about the phone, not the phone itself ("Phone type", "Mobile opt-in", "Phone country code",
 *   "Phone ID", "Mobile advertiser ID" — Meta's MADID);
 * - somebody else's phone, or not a phone one calls the person on ("Fax", "Emergency contact
 *   phone", "Assistant phone", "Spouse mobile", "Account owner phone", "Agent number").
 */
const NOT_THE_NUMBER_WORDS = new Set([
  'type',
  'kind',
  'ext',
  'extension',
  'code',
  'country',
  'prefix',
  'verified',
  'valid',
  'validated',
  'confirmed',
  'status',
  'opt',
  'optin',
  'optout',
  'consent',
  'flag',
  'carrier',
  'id',
  'uid',
  'advertiser',
  'advertising',
  'device',
  'fax',
  'telefax',
  'facsimile',
  'pager',
  'emergency',
  'assistant',
  'secretary',
  'spouse',
  'husband',
  'wife',
  'partner',
  'parent',
  'parents',
  'mother',
  'father',
  'guardian',
  'kin',
  'manager',
  'supervisor',
  'owner',
  'agent',
  'rep',
  'representative',
  'referrer',
  'referral',
  'sponsor',
]);

/** Headers longer than this are never phone candidates (they can still be named explicitly). */
const MAX_SCORED_HEADER_CHARS = 64;

const KNOWN_WORDS = [...PHONE_WORDS, ...NUMBER_WORDS, ...CONTACT_WORDS, ...PREFIX_WORDS];

/** How strongly a header names a phone column; see {@link detectPhoneColumns} for how scores are used. */
export const PhoneHeaderScore = {
  /** Not a candidate. */
  NONE: 0,
  /** Only a number word: `Number`, `No.`. */
  NUMBER_ONLY: 1,
  /** A phone word among others: `Home phone`, `Phone 2`, `Contact number`. */
  MENTIONS_PHONE: 2,
  /** Only phone and number words: `Phone`, `Phone Number`, `MSISDN`, `Tel.`, `cell_phone`. */
  EXACT: 3,
} as const;

/** The word tokens of a header as phone detection sees them (lower case, compounds split). */
export function phoneHeaderWords(header: string): string[] {
  return headerWords(header, KNOWN_WORDS, NEUTRAL_WORDS);
}

/** True when `word` (a token of {@link phoneHeaderWords}) names a phone on its own. */
export function isPhoneWord(word: string): boolean {
  return PHONE_WORDS.has(word);
}

/** Scores how likely a header names a phone column; see {@link PhoneHeaderScore}. */
export function scorePhoneHeader(header: string): number {
  // No real header is this long; the bound keeps compound splitting cheap on garbage.
  if (header.length > MAX_SCORED_HEADER_CHARS) return PhoneHeaderScore.NONE;
  const words = phoneHeaderWords(header);
  let phone = 0;
  let number = 0;
  let contact = 0;
  let other = 0;
  for (const w of words) {
    if (NOT_THE_NUMBER_WORDS.has(w)) return PhoneHeaderScore.NONE;
    if (PHONE_WORDS.has(w)) phone++;
    else if (NUMBER_WORDS.has(w)) number++;
    else if (CONTACT_WORDS.has(w)) contact++;
    else if (!NEUTRAL_WORDS.has(w)) other++;
  }
  if (phone > 0)
    return other === 0 && contact === 0 ? PhoneHeaderScore.EXACT : PhoneHeaderScore.MENTIONS_PHONE;
  if (number > 0 && other === 0)
    return contact > 0 ? PhoneHeaderScore.MENTIONS_PHONE : PhoneHeaderScore.NUMBER_ONLY;
  return PhoneHeaderScore.NONE;
}

/** What {@link detectPhoneColumns} and {@link detectColumns} are told, and name in errors. */
export interface PhoneColumnOptions {
  /**
   * The header(s) of the phone column(s) as given by the user (`--phone-column`, repeatable);
   * each matched case-insensitively, trimmed. Default: detected.
   */
  phoneColumn?: string | readonly string[];
  /** The file named in errors; default `<headers>`. */
  file?: string;
  /** The line of the header row, named in errors; default 1; null for none (a JSON payload's schema). */
  line?: number | null;
}

/** Options of {@link detectColumns}. */
export interface ColumnOptions extends PhoneColumnOptions {
  /** The header of the country column (`--country-column`), or `false` for none. Default: detected. */
  countryColumn?: string | false;
}

/** The columns an upload is read from: 0-based indexes into its headers. */
export interface UploadColumns {
  /** Every phone column, in header order (at least one). */
  phoneColumns: number[];
  /** The column holding each row's country, or null. */
  countryColumn: number | null;
}

/**
 * Finds the phone columns among `headers`; returns their 0-based indexes in header order.
 *
 * With `phoneColumn` (one name or several), the header equal to each (case-insensitive, trimmed);
 * a name matching no header or several, an empty name or list, or two names of one column is
 * `ERR_INVALID_ARGUMENT`. Without, by {@link scorePhoneHeader}: every header scoring
 * `MENTIONS_PHONE` or `EXACT` (`Phone`, `Mobile`, `Work Phone`, `Phone 2`, `PHONE`…); when there is
 * none, the one `NUMBER_ONLY` header (`Number`). No candidate, or several `NUMBER_ONLY` headers and
 * nothing better, is `ERR_BAD_INPUT` at the header line listing the headers and asking for
 * `--phone-column`.
 */
export function detectPhoneColumns(headers: readonly string[], options: PhoneColumnOptions = {}): number[] {
  const file = options.file ?? '<headers>';
  const { phoneColumn } = options;
  if (phoneColumn !== undefined) {
    const names: readonly string[] = typeof phoneColumn === 'string' ? [phoneColumn] : phoneColumn;
    if (!Array.isArray(names) || names.length === 0) {
      throw new InvalidArgumentError('phoneColumn', 'must name a header, or be a non-empty list of headers');
    }
    const found = names.map((name) => findHeader(headers, name, 'phoneColumn', file));
    const seen = new Set<number>();
    found.forEach((column, i) => {
      if (seen.has(column)) {
        throw new InvalidArgumentError(
          'phoneColumn',
          `${showHeader(names[i]!)} names column ${column + 1} (${showHeader(headers[column]!)}) a second time; name each column once`,
        );
      }
      seen.add(column);
    });
    return found.sort((a, b) => a - b);
  }

  const taken: number[] = [];
  const numberOnly: number[] = [];
  headers.forEach((h, i) => {
    const score = scorePhoneHeader(h);
    if (score >= PhoneHeaderScore.MENTIONS_PHONE) taken.push(i);
    else if (score === PhoneHeaderScore.NUMBER_ONLY) numberOnly.push(i);
  });
  if (taken.length > 0) return taken;
  if (numberOnly.length === 1) return numberOnly;
  const position = headerPosition(file, options.line);
  if (numberOnly.length === 0) {
    throw new InputError(
      position,
      `no phone column found among the headers ${showHeaders(headers)}; pass --phone-column <header>`,
    );
  }
  throw new InputError(
    position,
    `several columns could hold the phone number: ${showHeaders(numberOnly.map((i) => headers[i]!))} ` +
      `(headers: ${showHeaders(headers)}); pass --phone-column <header> (once per phone column)`,
  );
}

/**
 * Finds the phone columns ({@link detectPhoneColumns}) and the country column (`countryColumn`
 * named, `false`, or detected by `detectCountryColumn` among the other headers). A named country
 * column that is also a phone column is `ERR_INVALID_ARGUMENT`.
 */
export function detectColumns(headers: readonly string[], options: ColumnOptions = {}): UploadColumns {
  const file = options.file ?? '<headers>';
  const phoneColumns = detectPhoneColumns(headers, options);
  const { countryColumn } = options;
  if (countryColumn === false) return { phoneColumns, countryColumn: null };
  if (countryColumn !== undefined) {
    const found = findHeader(headers, countryColumn, 'countryColumn', file);
    if (phoneColumns.includes(found)) {
      throw new InvalidArgumentError(
        'countryColumn',
        `${showHeader(countryColumn)} is also a phone column; a column holds phones or countries, not both`,
      );
    }
    return { phoneColumns, countryColumn: found };
  }
  return {
    phoneColumns,
    countryColumn: detectCountryColumn(headers, { file, line: options.line, exclude: phoneColumns }),
  };
}
