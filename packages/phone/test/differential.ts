/**
 * The differential generator and checker: cells in every spelling, for every country
 * libphonenumber-js knows, read under random default countries (or none, or strictly), and a
 * comparison of `normalizePhone`, `normalizeBatch` and `normalizeRows` (its countries given as
 * a column of country cells) with `normalizePhoneReference` on each of them.
 *
 * Used by test/differential.test.ts (a sample, in CI) and bench/phone/normalize.bench.ts (the
 * full run of a million cells). Deterministic: the same seed gives the same cells.
 */
import fc from 'fast-check';
import countryNames from 'i18n-iso-countries';
import examples from 'libphonenumber-js/examples.mobile.json';
import { type CountryCode, getCountries, parsePhoneNumberWithError } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/max/metadata';
import { normalizeFast } from '../src/fast.js';
import {
  type NormalizeResult,
  normalizeBatch,
  normalizePhone,
  normalizePhoneReference,
  normalizeRows,
  reasonCode,
} from '../src/index.js';
import { countryPlan } from '../src/plans.js';

/** Cells that an upload with one default country (null: none) holds, read strictly or not. */
export interface DifferentialBlock {
  readonly defaultCountry: CountryCode | null;
  readonly strict?: boolean;
  readonly cells: readonly string[];
}

/** One cell on which the fast normaliser and the reference disagree. */
export interface Difference {
  readonly cell: string;
  readonly defaultCountry: CountryCode | null;
  readonly strict: boolean;
  readonly via: 'normalizePhone' | 'normalizeBatch' | 'normalizeRows';
  /** For normalizeRows: the country cell of the cell's row. */
  readonly countryCell?: string;
  readonly expected: NormalizeResult;
  readonly actual: NormalizeResult | { key: number; reason: number; guessed?: number };
}

/** What a differential run found. */
export interface DifferentialReport {
  readonly cells: number;
  /** Cells the fast path answered itself (the others went to the reference). */
  readonly fastAnswered: number;
  /** Cells the reference accepted as valid numbers. */
  readonly valid: number;
  /** Of those, numbers read as international after failing as national (guesses). */
  readonly guessed: number;
  readonly differences: number;
  /** The first few differences, for the message of a failing test. */
  readonly examples: readonly Difference[];
}

/** Cells in a block: one default country per simulated upload. */
const BLOCK = 64;
/** Numbers sampled from each metadata pattern of each country. */
const SAMPLES_PER_PATTERN = 6;
const MAX_EXAMPLES = 20;

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Raw = readonly unknown[];
const RAW = metadata.countries as Record<string, Raw>;
const CALLING_CODES = metadata.country_calling_codes as Record<string, readonly string[]>;

/** What the generator knows of a country: its codes, prefixes and a pool of national numbers. */
interface CountryFacts {
  readonly country: CountryCode;
  readonly callingCode: string;
  readonly trunk: string | undefined;
  /** International prefixes one dials from this country (samples of its IDD pattern, and its default). */
  readonly idds: readonly string[];
  /** Countries sharing the calling code (itself included). */
  readonly siblings: readonly CountryCode[];
  /** National significant numbers: the example, and samples of every national and type pattern. */
  readonly numbers: readonly string[];
  readonly possibleLengths: readonly number[];
}

let factsCache: readonly CountryFacts[] | undefined;

/** Every country libphonenumber-js knows, with its pool (built once; about half a second). */
export function countryFacts(): readonly CountryFacts[] {
  if (factsCache !== undefined) return factsCache;
  factsCache = getCountries().map((country, index) => {
    const raw = RAW[country]!;
    const callingCode = String(raw[0]);
    const sample = (pattern: unknown, salt: number): string[] =>
      typeof pattern === 'string' && pattern !== ''
        ? fc.sample(fc.stringMatching(new RegExp(`^(?:${pattern})$`)), {
            seed: index * 131 + salt,
            numRuns: SAMPLES_PER_PATTERN,
          })
        : [];
    const numbers = new Set<string>();
    const example = (examples as Record<string, string | undefined>)[country];
    if (example) numbers.add(example);
    for (const n of sample(raw[2], 0)) numbers.add(n);
    const types = Array.isArray(raw[11]) ? (raw[11] as unknown[]) : [];
    types.forEach((type, i) => {
      if (Array.isArray(type)) for (const n of sample(type[0], i + 1)) numbers.add(n);
    });
    const idds = new Set(sample(raw[1], 99));
    if (typeof raw[12] === 'string') idds.add(raw[12].replaceAll('~', ''));
    if (/^[0-9]+$/.test(String(raw[1]))) idds.add(String(raw[1]));
    const trunk = typeof raw[5] === 'string' && raw[5] !== '' ? raw[5] : undefined;
    return {
      country,
      callingCode,
      trunk,
      idds: [...idds].filter((idd) => /^[0-9]+$/.test(idd)),
      siblings: (CALLING_CODES[callingCode] ?? [country]) as CountryCode[],
      numbers: [...numbers].filter((n) => /^[0-9]+$/.test(n)),
      possibleLengths: Array.isArray(raw[3]) ? (raw[3] as number[]) : [],
    };
  });
  return factsCache;
}

const SEPARATORS = [' ', ' ', '-', '.', '', ' - ', '/', '  '];
const EXTENSION_LABELS = [' ext. ', ' x', ' #', ';ext=', ' ext', ',,'];
const WHITESPACE = [' ', '  ', '\t', '\n', '\r\n', '\u00A0', '\u200B', '\u2060', '\u3000', '\uFEFF'];
const JUNK = [
  '',
  ' ',
  '\t',
  'N/A',
  'n/a',
  '#REF!',
  'NULL',
  'none',
  '-',
  '--',
  '+',
  '++',
  '()',
  '(+)',
  '0',
  '00',
  '1',
  '12',
  '+1',
  '+12',
  '1 2',
  '(1)2',
  'tel:',
  'TEL:',
  'tel:+',
  'tel:;phone-context=+44',
  'tel:0712;phone-context=',
  "=cmd|' /C calc'!A0",
  '=HYPERLINK("tel:+254712123456")',
  'call me',
  'call me on 0771234567',
  '07400 123456 (mobile)',
  "'+447400123456",
  '"+447400123456"',
  '\u260E\uFE0F',
  '1e10',
  '12.5',
  '-12',
  'x',
  'ext. 12',
  ';',
  ';phone-context=+44',
  'abc;phone-context=+44',
];
// Characters for random junk: phone-like, separators, look-alikes and letters.
const JUNK_ALPHABET = [
  ...'0123456789012345678901234567890123456789',
  ...' -.()+/[]x#;,*~etl:=ABC',
  '\t',
  '\u00A0',
  '\uFF0B',
  '\uFF11',
  '\u0661',
  '\u06F5',
  '\u200B',
  '\u2013',
  '\uFF08',
];

/**
 * Deterministic blocks of cells (each block one default country), `count` cells in all:
 * E.164, international with every separator and bracket, national with and without trunk
 * prefix, the default country's IDD and other countries' IDDs, country code without `+` (with
 * and without a trunk prefix after it), tel: URIs, surrounding whitespace, extensions,
 * full-width and Arabic-Indic digits; numbers from every pattern of the metadata, mutated
 * (digits changed, added, removed) and random digit strings of nearby lengths; and junk.
 */
export function generateDifferentialBlocks(count: number, seed = 0xd1ff): DifferentialBlock[] {
  const facts = countryFacts();
  const byCountry = new Map(facts.map((f) => [f.country, f]));
  const random = prng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const digits = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += String(int(10));
    return s;
  };

  /** A national number of `f`: from its pool, mutated, or random digits of a nearby length. */
  const nationalNumber = (f: CountryFacts): string => {
    const base = f.numbers.length > 0 ? pick(f.numbers) : digits(8);
    const r = random();
    if (r < 0.55) return base;
    if (r < 0.7) {
      // Change the last 1–4 digits: the same range, often still valid.
      const k = Math.min(base.length, 1 + int(4));
      return base.slice(0, base.length - k) + digits(k);
    }
    if (r < 0.77) {
      const at = int(base.length + 1);
      return base.slice(0, at) + digits(1) + base.slice(at);
    }
    if (r < 0.84) {
      const at = int(base.length);
      return base.slice(0, at) + base.slice(at + 1);
    }
    if (r < 0.89) return digits(1) + base.slice(1);
    const lengths = f.possibleLengths.length > 0 ? f.possibleLengths : [8];
    return digits(Math.max(1, pick(lengths) + int(3) - 1));
  };

  /** Digits cut into groups joined by one separator; the first group bracketed sometimes. */
  const grouped = (text: string, separator: string): string => {
    const groups: string[] = [];
    let i = 0;
    while (i < text.length) {
      const size = 1 + int(4);
      groups.push(text.slice(i, i + size));
      i += size;
    }
    if (groups.length > 1 && random() < 0.2) groups[0] = random() < 0.8 ? `(${groups[0]})` : `[${groups[0]}]`;
    return groups.join(separator);
  };

  /** The formats libphonenumber-js itself prints for a number, when it parses. */
  const printed = (e164: string, from: CountryFacts): string[] => {
    try {
      const phone = parsePhoneNumberWithError(e164, { extract: false });
      const out = [phone.formatInternational(), phone.formatNational(), phone.getURI()];
      const idd = phone.format('IDD', { fromCountry: from.country });
      if (idd) out.push(idd);
      return out;
    } catch {
      return [e164];
    }
  };

  const toFullWidth = (text: string): string =>
    text.replace(/[0-9+]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
  const toArabicIndic = (text: string): string =>
    text.replace(/[0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x30 + 0x660));

  const junk = (): string => {
    const r = random();
    if (r < 0.4) return pick(JUNK);
    if (r < 0.8) {
      let s = '';
      const n = int(24);
      for (let i = 0; i < n; i++) s += pick(JUNK_ALPHABET);
      return s;
    }
    if (r < 0.9) return digits(1 + int(25));
    // Long cells around the 250-character limit.
    const unit = pick(['1', '12 ', 'x', '+44 ', ' ']);
    return unit.repeat(Math.ceil((190 + int(80)) / unit.length));
  };

  /** One cell of a number of `f`, as an upload under `home` may spell it. */
  const spell = (f: CountryFacts, home: CountryFacts): string => {
    const nsn = nationalNumber(f);
    const cc = f.callingCode;
    const sep = pick(SEPARATORS);
    const trunk = f.trunk ?? '';
    switch (int(20)) {
      case 0:
        return `+${cc}${nsn}`;
      case 1:
        return `+${cc}${sep || ' '}${grouped(nsn, sep)}`;
      case 2:
        return `+${cc} (${trunk}) ${grouped(nsn, sep)}`;
      case 3:
        return `${pick(['(+', '( +', '[+', '(\uFF0B'])}${cc}) ${grouped(nsn, sep)}`;
      case 4:
        return nsn;
      case 5:
        return grouped(nsn, sep);
      case 6:
        return trunk + nsn;
      case 7:
        return grouped(trunk + nsn, sep);
      case 8:
        return `${home.idds.length > 0 ? pick(home.idds) : '00'}${sep}${cc}${sep}${grouped(nsn, sep)}`;
      case 9:
        return `${pick(pick(facts).idds.concat(['00']))}${cc}${nsn}`;
      case 10:
        return `${cc}${nsn}`;
      case 11:
        return `${cc}${sep}${grouped(nsn, sep)}`;
      case 12:
        return `${cc}${trunk}${nsn}`;
      case 13:
        return `${pick(['tel:', 'TEL:', 'Tel:'])}+${cc}-${grouped(nsn, '-')}`;
      case 14:
        return pick([
          `tel:${nsn};phone-context=+${cc}`,
          `tel:${trunk}${nsn};phone-context=example.com`,
          `tel:+${cc}${nsn};ext=${digits(1 + int(4))}`,
          `tel:+${cc}${nsn};isub=12;foo=bar`,
          `tel:${trunk}${nsn}`,
        ]);
      case 15:
        return pick(printed(`+${cc}${nsn}`, home));
      case 16:
        return `+${cc} ${grouped(nsn, ' ')}${pick(EXTENSION_LABELS)}${digits(1 + int(4))}`;
      case 17:
        return pick([toFullWidth(`+${cc}${nsn}`), toArabicIndic(`${trunk}${nsn}`), `\uFF0B${cc}${nsn}`]);
      case 18:
        return `+${cc}${trunk}${nsn}`;
      default:
        return `${pick(['0', '00', '+', '+0', '1', ''])}${digits(int(4))}${nsn}`;
    }
  };

  const blocks: DifferentialBlock[] = [];
  let made = 0;
  while (made < count) {
    const home = pick(facts);
    const size = Math.min(BLOCK, count - made);
    const cells: string[] = [];
    for (let i = 0; i < size; i++) {
      const r = random();
      if (r < 0.08) {
        cells.push(junk());
        continue;
      }
      // The default country's own numbers, its calling-code siblings', or anyone's.
      const owner = r < 0.45 ? home : r < 0.6 ? (byCountry.get(pick(home.siblings)) ?? home) : pick(facts);
      let cell = spell(owner, home);
      if (random() < 0.12) cell = pick(WHITESPACE) + cell + pick(WHITESPACE);
      cells.push(cell);
    }
    // The reading mode comes from the block's position, not the random stream, so that the
    // cells stay those of earlier versions: half as uploaded, a quarter strict, a quarter with
    // no country (half of those strict).
    const mode = blocks.length % 8;
    blocks.push({
      defaultCountry: mode >= 6 ? null : home.country,
      ...(mode === 4 || mode === 5 || mode === 7 ? { strict: true } : {}),
      cells,
    });
    made += size;
  }
  return blocks;
}

function sameResult(a: NormalizeResult, b: NormalizeResult): boolean {
  if (a.ok !== b.ok) return false;
  if (a.ok && b.ok) return a.e164 === b.e164 && a.key === b.key && a.international === b.international;
  return !a.ok && !b.ok && a.reason === b.reason;
}

// Country cells that name no country: with no default country, their rows have none.
const NO_COUNTRY_CELLS = ['', ' ', 'Narnia', 'XX', '12'];

/**
 * A country cell naming `country`, spelled as uploads do (alpha-2 in any case, alpha-3, English
 * name), chosen by `i`; for null, a cell that names no country.
 */
function countryCell(country: CountryCode | null, i: number): string {
  if (country === null) return NO_COUNTRY_CELLS[i % NO_COUNTRY_CELLS.length]!;
  const name = countryNames.getName(country, 'en');
  const alpha3 = countryNames.alpha2ToAlpha3(country);
  const spellings = [
    country,
    ` ${country.toLowerCase()} `,
    alpha3 ?? country,
    name?.toUpperCase() ?? country,
  ];
  return spellings[i % spellings.length]!;
}

/**
 * Runs `normalizePhone`, `normalizeBatch` and `normalizeRows` against `normalizePhoneReference`
 * on every cell and counts the cells where any disagrees (full results: ok, E.164, key and the
 * `international` flag, or the reason). `normalizeRows` reads all blocks of one strictness in
 * one call, one cell a row, each row's country given by a country cell naming its block's
 * default country (or none), with no default: rows of different countries alternate, as in a
 * real upload with a country column.
 */
export function compareWithReference(blocks: readonly DifferentialBlock[]): DifferentialReport {
  let cells = 0;
  let fastAnswered = 0;
  let valid = 0;
  let guessed = 0;
  let differences = 0;
  const found: Difference[] = [];
  const note = (difference: Difference): void => {
    differences++;
    if (found.length < MAX_EXAMPLES) found.push(difference);
  };
  // Per strictness, every cell of every block, for normalizeRows.
  const rows = [false, true].map((strict) => ({
    strict,
    cells: [] as string[],
    countries: [] as string[],
    expected: [] as NormalizeResult[],
    defaults: [] as (CountryCode | null)[],
  }));
  for (const { defaultCountry, strict = false, cells: batch } of blocks) {
    const options = { defaultCountry, strict };
    const plan = defaultCountry === null ? undefined : countryPlan(defaultCountry);
    const { keys, reasons } = normalizeBatch(batch, options);
    const all = rows[strict ? 1 : 0]!;
    batch.forEach((cell, i) => {
      cells++;
      const expected = normalizePhoneReference(cell, options);
      if (expected.ok) valid++;
      if (expected.ok && expected.international) guessed++;
      if (normalizeFast(cell, plan, strict) !== undefined) fastAnswered++;
      all.cells.push(cell);
      all.countries.push(countryCell(defaultCountry, all.cells.length));
      all.expected.push(expected);
      all.defaults.push(defaultCountry);
      const single = normalizePhone(cell, options);
      if (!sameResult(single, expected)) {
        note({ cell, defaultCountry, strict, via: 'normalizePhone', expected, actual: single });
        return;
      }
      const key = expected.ok ? expected.key : 0;
      const reason = expected.ok ? 0 : reasonCode(expected.reason);
      if (keys[i] !== key || reasons[i] !== reason) {
        note({
          cell,
          defaultCountry,
          strict,
          via: 'normalizeBatch',
          expected,
          actual: { key: keys[i]!, reason: reasons[i]! },
        });
      }
    });
  }
  for (const all of rows) {
    const n = all.cells.length;
    const out = { keys: new Float64Array(n), reasons: new Uint8Array(n), guessed: new Uint8Array(n) };
    normalizeRows(all.cells, 1, all.countries, { defaultCountry: null, strict: all.strict }, out);
    all.expected.forEach((expected, i) => {
      const key = expected.ok ? expected.key : 0;
      const reason = expected.ok ? 0 : reasonCode(expected.reason);
      const guess = expected.ok && expected.international ? 1 : 0;
      if (out.keys[i] !== key || out.reasons[i] !== reason || out.guessed[i] !== guess) {
        note({
          cell: all.cells[i]!,
          defaultCountry: all.defaults[i]!,
          strict: all.strict,
          via: 'normalizeRows',
          countryCell: all.countries[i]!,
          expected,
          actual: { key: out.keys[i]!, reason: out.reasons[i]!, guessed: out.guessed[i]! },
        });
      }
    });
  }
  return { cells, fastAnswered, valid, guessed, differences, examples: found };
}
