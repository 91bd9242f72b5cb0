import { InputError } from '@rollcall/errors';
import { headerPosition, headerWords, splitCompound } from './headers.js';
import { showHeaders } from './redact.js';

/** Words that name a country (accents removed, lower case): English, German/Dutch, French, Spanish, Italian. */
const COUNTRY_WORDS = new Set(['country', 'ctry', 'cntry', 'nation', 'land', 'pays', 'pais', 'paese']);

/** The ISO word: a header of ISO words only (`ISO`, `iso2`, `ISO 3166-1 alpha-2`) is a country too. */
const ISO_WORDS = new Set(['iso', 'iso2', 'iso3']);

/**
 * Words that may stand beside a country word without changing what the column holds: how the
 * country is written (`code`, `cd`, `ISO`, `alpha 2`, `name`; `region` as in Outlook's `Country/Region`) and the small words of "Código de país".
 */
const QUALIFIER_WORDS = new Set([
  'code',
  'codigo',
  'cod',
  'cd',
  'iso',
  'iso2',
  'iso3',
  'alpha',
  'alpha2',
  'alpha3',
  'a2',
  'a3',
  '1',
  '2',
  '3',
  '3166',
  'name',
  'short',
  'region',
  'de',
  'du',
  'del',
  'do',
  'da',
  'of',
]);

/** Words the country rule knows: used to split glued headers (`COUNTRYCODE`, `countryiso`). */
const KNOWN_WORDS = [...COUNTRY_WORDS, ...QUALIFIER_WORDS];

/** Headers longer than this are never country candidates (they can still be named explicitly). */
const MAX_SCORED_HEADER_CHARS = 64;

/**
 * True when a header names the column of each row's country. Its words (lower case, accents
 * removed, split at punctuation, spaces, camelCase and digits, glued words split) must be
 * - a country word (`country`, `ctry`, `cntry`, `nation`, `land`, `pays`, `país`, `paese`) and
 *   otherwise only qualifiers (`code`, `iso`, `iso2`, `alpha 2`, `name`, `3166`, `de`…): `Country`,
 *   `COUNTRY`, `country_code`, `countryCode`, `Country ISO2`, `Código de país`, `Land`; or
 * - ISO words and qualifiers only, with `iso` among them: `ISO`, `iso2`, `ISO 3166-1 alpha-2`.
 *
 * Any other word disqualifies the header, so a calling code is never taken for a country:
 * `Phone country code`, `Country calling code`, `Country dial code`, `Dial code`,
 * `Country prefix` are not country headers (nor is `Billing country`: name such a column with
 * `countryColumn`).
 */
export function isCountryHeader(header: string): boolean {
  if (header.length > MAX_SCORED_HEADER_CHARS) return false;
  let country = false;
  let iso = false;
  let words = 0;
  for (const token of headerWords(header, KNOWN_WORDS)) {
    for (const w of COUNTRY_WORDS.has(token) || QUALIFIER_WORDS.has(token)
      ? [token]
      : (splitCompound(token, KNOWN_WORDS) ?? [token])) {
      words++;
      if (COUNTRY_WORDS.has(w)) country = true;
      else if (QUALIFIER_WORDS.has(w)) iso ||= ISO_WORDS.has(w);
      else return false;
    }
  }
  return words > 0 && (country || iso);
}

/** Where the headers come from and what is already taken, for {@link detectCountryColumn}. */
export interface CountryColumnOptions {
  /** The file named in errors; default `<headers>`. */
  file?: string;
  /** The line of the header row, named in errors; default 1; null for none. */
  line?: number | null;
  /** Columns never taken (the phone columns). */
  exclude?: readonly number[];
}

/**
 * Finds the country column among `headers` by {@link isCountryHeader}: its 0-based index, or null
 * when no header names a country. Several country headers are `ERR_BAD_INPUT` at the header
 * line naming them and asking for `--country-column`.
 */
export function detectCountryColumn(
  headers: readonly string[],
  options: CountryColumnOptions = {},
): number | null {
  const exclude = options.exclude ?? [];
  const found: number[] = [];
  headers.forEach((h, i) => {
    if (!exclude.includes(i) && isCountryHeader(h)) found.push(i);
  });
  if (found.length <= 1) return found[0] ?? null;
  throw new InputError(
    headerPosition(options.file ?? '<headers>', options.line),
    `several columns could hold each row's country: ${showHeaders(found.map((i) => headers[i]!))}; ` +
      'pass --country-column <header> to choose one',
  );
}
