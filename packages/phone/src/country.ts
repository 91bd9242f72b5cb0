import { createRequire } from 'node:module';
import { ErrorCodes, InvalidArgumentError } from '@rollcall/errors';
import type { CountryCode } from 'libphonenumber-js/max';
import { isSupportedCountry } from 'libphonenumber-js/max';
import { trimCell } from './text.js';

/**
 * Checks a default country given by a caller (option or CLI flag): trims, upper-cases, and
 * returns it as a `CountryCode` libphonenumber-js's max metadata knows. An unknown country is a
 * bad argument, never a row rejection: throws `InvalidArgumentError` naming `defaultCountry`
 * with code `ERR_UNKNOWN_COUNTRY`.
 */
export function assertCountry(code: string): CountryCode {
  if (typeof code === 'string') {
    const upper = code.trim().toUpperCase();
    if (isSupportedCountry(upper)) return upper;
  }
  throw new InvalidArgumentError(
    'defaultCountry',
    `unknown country ${JSON.stringify(code)}: expected an ISO 3166-1 alpha-2 code such as "KE" or "GB"`,
    ErrorCodes.UNKNOWN_COUNTRY,
  );
}

/**
 * A row's country cell: null when blank (nothing but whitespace, or not a string at all: an
 * absent cell); the `CountryCode` it names; undefined when it names no country libphonenumber-js
 * (max metadata) supports. Accepted, in any case and with surrounding whitespace:
 *
 * - an alpha-2 code `assertCountry` accepts (`gb`, ` GB `; ISO 3166-1 and the few others
 *   libphonenumber-js has: `XK` Kosovo, `AC` Ascension, `TA` Tristan da Cunha);
 * - an ISO 3166-1 alpha-3 code (`GBR`, `deu`);
 * - an English name the i18n-iso-countries data knows, short or official or alias (`Germany`,
 *   `united kingdom`, `United States of America`, `Côte d'Ivoire` or `Cote d'Ivoire`, `USA`,
 *   `UAE`), also without a bracketed part (`Falkland Islands` for `Falkland Islands
 *   (Malvinas)`). Accents, case, runs of inner whitespace and typographic apostrophes do not
 *   matter. Names the data does not list are unknown (`Syria`: the data has `Syrian Arab
 *   Republic`; `England`).
 *
 * `UK` is taken for GB: it is not an ISO code (the United Kingdom's is GB), but spreadsheets
 * write it, and the data lists it as an English alias of the United Kingdom. A name the data gives to two countries (`Congo`: CG and CD) resolves to neither: undefined.
 * Numeric codes (`826`), unknown codes (`XX`) and unknown names (`Narnia`) are undefined, as are
 * ISO countries libphonenumber-js has no numbering plan for (`AQ` Antarctica).
 *
 * Called once per row on the join's hot path: results are cached per raw text in a bounded Map,
 * and the name data (English only) is loaded on the first call.
 */
export function resolveCountry(text: string): CountryCode | null | undefined {
  if (typeof text !== 'string') return (text as unknown) == null ? null : undefined;
  const cached = resolved.get(text);
  if (cached !== undefined || resolved.has(text)) return cached;
  const result = lookUpCountry(text);
  if (text.length <= MAX_CACHED_TEXT_LENGTH) {
    // Bounded: an upload has a few distinct country cells; a pathological one cannot grow this.
    if (resolved.size >= MAX_CACHED_TEXTS) resolved.clear();
    resolved.set(text, result);
  }
  return result;
}

const MAX_CACHED_TEXTS = 1024;
const MAX_CACHED_TEXT_LENGTH = 64;
// Longer than any English country name of the data (44 characters) with room for spacing.
const MAX_NAME_LENGTH = 100;
const resolved = new Map<string, CountryCode | null | undefined>();

const LETTERS_2 = /^[A-Za-z]{2}$/;
const LETTERS_3 = /^[A-Za-z]{3}$/;

/** {@link resolveCountry} without the cache. */
function lookUpCountry(text: string): CountryCode | null | undefined {
  const trimmed = trimCell(text);
  if (trimmed === '') return null;
  if (trimmed.length > MAX_NAME_LENGTH) return undefined;
  const upper = trimmed.toUpperCase();
  if (LETTERS_2.test(trimmed) && isSupportedCountry(upper)) return upper;
  if (LETTERS_3.test(trimmed)) {
    const alpha2 = countryData().library.alpha3ToAlpha2(upper);
    if (alpha2 !== undefined && isSupportedCountry(alpha2)) return alpha2;
  }
  // Names last: `UK`, `USA`, `UAE` are names (aliases) in the data, not codes.
  return countryData().names.get(foldName(trimmed));
}

// Combining marks (left by NFD from accented letters), inner whitespace, and the apostrophes
// spreadsheets and word processors put in `Côte d’Ivoire`.
const COMBINING_MARKS = /\p{M}+/gu;
const INNER_SPACE = /[\s\u200B\u2060]+/g;
const APOSTROPHES = /[\u2018\u2019\u02BC\u0060\u00B4]/g;

/** A name as compared: no accents, lower case, single spaces, ASCII apostrophes. */
function foldName(name: string): string {
  return name
    .normalize('NFD')
    .replace(COMBINING_MARKS, '')
    .toLowerCase()
    .replace(INNER_SPACE, ' ')
    .replace(APOSTROPHES, "'");
}

type CountriesLibrary = typeof import('i18n-iso-countries/index.js');

interface CountryData {
  readonly library: CountriesLibrary;
  /** Folded English name → the one supported country it names. */
  readonly names: ReadonlyMap<string, CountryCode>;
}

let data: CountryData | undefined;

/**
 * i18n-iso-countries with its English locale registered (once), and the English names folded.
 * Loaded on first use, not on import: most users of this package never read a country column.
 */
function countryData(): CountryData {
  if (data !== undefined) return data;
  const require = createRequire(import.meta.url);
  // `index.js`, not the package's main (`entry-node.js`), which loads and registers all of its
  // ~80 locales.
  const library = require('i18n-iso-countries/index.js') as CountriesLibrary;
  library.registerLocale(
    require('i18n-iso-countries/langs/en.json') as Parameters<CountriesLibrary['registerLocale']>[0],
  );
  const all = Object.entries(library.getNames('en', { select: 'all' }));
  // The names as the data spells them, then without their bracketed part (`Falkland Islands
  // (Malvinas)`, `Sint Maarten (Dutch part)`), which only count where no full name is the same.
  const names = new Map<string, CountryCode>();
  for (const shorten of [false, true]) {
    const owners = new Map<string, Set<string>>();
    for (const [alpha2, list] of all) {
      for (const name of list) {
        const key = foldName(shorten ? name.replace(BRACKETED_PART, ' ').trim() : name);
        if (shorten && names.has(key)) continue;
        const set = owners.get(key);
        if (set === undefined) owners.set(key, new Set([alpha2]));
        else set.add(alpha2);
      }
    }
    for (const [key, set] of owners) {
      // A name of two countries (`Congo`) names neither: a list must not be guessed at.
      if (set.size !== 1 || names.has(key)) continue;
      const [alpha2] = set;
      if (alpha2 !== undefined && isSupportedCountry(alpha2)) names.set(key, alpha2);
    }
  }
  data = { library, names };
  return data;
}

const BRACKETED_PART = /\s*\([^)]*\)/g;
