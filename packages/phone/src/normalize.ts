import { InvalidArgumentError } from '@rollcall/errors';
import type { CountryCode } from 'libphonenumber-js/max';
import { assertCountry, resolveCountry } from './country.js';
import { normalizeFast } from './fast.js';
import { countryPlan, metadataCompilable, type Plan } from './plans.js';
import { reasonCode } from './reasons.js';
import { normalizeIn } from './reference.js';
import type { NormalizeResult } from './result.js';

/** Options of {@link normalizePhone}. */
export interface NormalizeOptions {
  /**
   * The country whose national format, trunk prefix and IDD prefix cells may be written in;
   * null: none (a national number is rejected INVALID_COUNTRY, only `+…` spellings are read).
   */
  readonly defaultCountry: CountryCode | null;
  /**
   * Refuse a number read as international only after failing as national (a country code
   * written without `+`): the cell is rejected MISSING_PLUS instead of guessed. Default false.
   */
  readonly strict?: boolean;
}

export type { NormalizeResult } from './result.js';

/** The typed arrays {@link normalizeBatch} fills: one key and one reason code per cell. */
export interface NormalizeBatchOutput {
  /** The key of cell i, or 0 when it was rejected. */
  readonly keys: Float64Array;
  /** The reason code of cell i (see `reasonCode`), or 0 when it is valid. */
  readonly reasons: Uint8Array;
}

/** Options of {@link normalizeRows}. */
export interface NormalizeRowsOptions {
  /** The country of rows whose country cell is blank or absent; null: none (their national numbers are rejected INVALID_COUNTRY). */
  readonly defaultCountry: CountryCode | null;
  /** Refuse numbers read as international only after failing as national (MISSING_PLUS). */
  readonly strict?: boolean;
}

/** What {@link normalizeRows} fills: one entry per cell. */
export interface NormalizeRowsOutput {
  /** The key of cell i, or 0 when it was rejected. */
  readonly keys: Float64Array;
  /** The reason code of cell i (see `reasonCode`), or 0 when it is valid. */
  readonly reasons: Uint8Array;
  /** 1 when cell i's valid number was read as international after failing as national, else 0. */
  readonly guessed: Uint8Array;
}

/**
 * Normalises one upload cell to E.164 under libphonenumber-js's max metadata, or says why it is
 * rejected. Returns `{ ok: true, e164, key }` (with `international: true` when the number was
 * read as international after failing as national) or `{ ok: false, reason }`; bad rows never
 * throw. Throws `InvalidArgumentError` (`ERR_UNKNOWN_COUNTRY`) when `defaultCountry` is unknown
 * (null is allowed: no country).
 *
 * The hot-path entry point: the same result as {@link normalizePhoneReference} on every input
 * (a differential test holds it to that), several times faster. Plain cells (digits, a leading
 * `+`, separators) take a fast path that replays libphonenumber-js's steps on metadata compiled
 * once; any other cell, or one the fast path is not sure of, goes to the reference.
 */
export function normalizePhone(cell: string, options: NormalizeOptions): NormalizeResult {
  return normalizeWith(cell, homePlan(options.defaultCountry), options.strict === true);
}

/**
 * The reference normaliser: libphonenumber-js (max metadata) at every step, no shortcuts.
 * Same contract as {@link normalizePhone}, which must give identical results. The home of the
 * rules:
 *
 * 1. Surrounding whitespace is trimmed; nothing left is EMPTY.
 * 2. A `tel:` URI (RFC 3966) is reduced to its number (`phone-context` of the form `+CC` is
 *    prepended to a local number, `ext` kept, other params dropped); a malformed one is
 *    NOT_A_NUMBER.
 * 3. A leading full-width plus is a plus, and so is one just inside a leading bracket
 *    (`(+44) 7400 123456`).
 * 4. The text must be a phone number as a whole (nothing is extracted from free text). It is
 *    read in the default country, which covers E.164, international spellings, national with or
 *    without trunk prefix, and the country's IDD prefix. With no default country (null) only a
 *    `+` spelling can be read: a national number (IDD prefix included) is INVALID_COUNTRY.
 * 5. When that reading is not valid and the text starts with a digit, it is read once more with
 *    `+` prepended (a country code written without `+`: `447400925334` in a Kenyan list, or in a
 *    list with no country). That second reading is used only if valid, and the result then says
 *    `international: true`: the number was guessed, not read as written (`2015550123` in a
 *    French list is the Egyptian +20 15550123, not the American (201) 555-0123). With
 *    `strict`, the guess is refused: the cell is MISSING_PLUS. When neither reading is valid,
 *    the reason is the first reading's.
 * 6. A number libphonenumber-js holds valid whose E.164 has more than 15 digits (some German,
 *    Indonesian, Japanese, Korean, Nigerian and Uruguayan ranges, up to 19 digits) is
 *    OVER_15_DIGITS: E.164 and the index hold at most 15 digits, so it can never match, and its
 *    key would not be exact. It counts as a valid reading for rule 5 (no second reading).
 * 7. Nothing invalid is fixed. The reasons of invalid readings: see `REJECT_REASONS`.
 */
export function normalizePhoneReference(cell: string, options: NormalizeOptions): NormalizeResult {
  const country = options.defaultCountry === null ? undefined : assertCountry(options.defaultCountry);
  return normalizeIn(cell, country, options.strict === true);
}

/**
 * Normalises many cells into typed arrays, the form the join's hot path uses: `keys[i]` is the
 * key of cell i or 0, `reasons[i]` its reason code or 0. Fills and returns `out` when given
 * (each array at least `cells.length` long), otherwise new arrays. Same results as
 * {@link normalizePhone} cell by cell. {@link normalizeRows} with one cell a row and no
 * country column, without the `guessed` array.
 */
export function normalizeBatch(
  cells: readonly string[],
  options: NormalizeOptions,
  out?: NormalizeBatchOutput,
): NormalizeBatchOutput {
  const home = homePlan(options.defaultCountry);
  const n = cells.length;
  const target = out ?? { keys: new Float64Array(n), reasons: new Uint8Array(n) };
  checkOutput(target, n, false);
  fill(cells, 1, undefined, home, options.strict === true, target.keys, target.reasons, undefined);
  return target;
}

/**
 * Normalises the phone cells of many rows, each row read in its own country, into `out`
 * (each array at least `cells.length` long): `keys[i]` the key of cell i or 0, `reasons[i]`
 * its reason code or 0, `guessed[i]` 1 when its valid number was read as international after
 * failing as national (see {@link normalizePhoneReference}, rule 5), else 0.
 *
 * `cells` is row-major, `width` cells a row: cell `r * width + c` is row r's column c.
 * `countries`, when given, holds one raw country cell per row (at least one per row), read by
 * `resolveCountry`: a known country is that row's; a blank cell (or an absent one: not a
 * string) means `options.defaultCountry`; an unknown value (`Narnia`) means the row has no
 * country, as does a blank cell when `defaultCountry` is null. A row with no country reads only
 * `+` spellings (and tel: URIs of them): its national numbers are INVALID_COUNTRY, while a
 * cell starting with a digit still gets the second reading with `+` prepended (a guess,
 * refused as MISSING_PLUS when `strict`).
 *
 * Every cell's result is exactly {@link normalizePhone}'s with `{ defaultCountry: <the row's
 * country or null>, strict }`. Nothing is allocated per row or per cell beyond what that does;
 * each country's compiled plan is looked up once per run of rows with the same country cell.
 * Throws `InvalidArgumentError` for a bad `width`, `countries` or `out`, and
 * `ERR_UNKNOWN_COUNTRY` for an unknown `defaultCountry`.
 */
export function normalizeRows(
  cells: readonly string[],
  width: number,
  countries: readonly string[] | undefined,
  options: NormalizeRowsOptions,
  out: NormalizeRowsOutput,
): void {
  const home = homePlan(options.defaultCountry);
  if (!Number.isInteger(width) || width < 1) {
    throw new InvalidArgumentError('width', `must be an integer of at least 1, got ${String(width)}`);
  }
  const n = cells.length;
  if (n % width !== 0) {
    throw new InvalidArgumentError('cells', `${n} cells are not whole rows of ${width}`);
  }
  const rows = n / width;
  if (countries !== undefined && (!Array.isArray(countries) || countries.length < rows)) {
    throw new InvalidArgumentError(
      'countries',
      `must be an array of at least ${rows} country cells (one a row)`,
    );
  }
  checkOutput(out, n, true);
  fill(cells, width, countries, home, options.strict === true, out.keys, out.reasons, out.guessed);
}

/** Throws `InvalidArgumentError` naming the array of `out` that cannot hold `n` cells. */
function checkOutput(out: Partial<NormalizeRowsOutput>, n: number, guessed: boolean): void {
  if (!(out.keys instanceof Float64Array) || out.keys.length < n) {
    throw new InvalidArgumentError('out.keys', `must be a Float64Array of at least ${n} elements`);
  }
  if (!(out.reasons instanceof Uint8Array) || out.reasons.length < n) {
    throw new InvalidArgumentError('out.reasons', `must be a Uint8Array of at least ${n} elements`);
  }
  if (guessed && (!(out.guessed instanceof Uint8Array) || out.guessed.length < n)) {
    throw new InvalidArgumentError('out.guessed', `must be a Uint8Array of at least ${n} elements`);
  }
}

/**
 * The one loop of {@link normalizeBatch} and {@link normalizeRows}: row by row, the row's plan
 * (from its country cell, or `home`), then each of its cells.
 */
function fill(
  cells: readonly string[],
  width: number,
  countries: readonly string[] | undefined,
  home: Plan | undefined,
  strict: boolean,
  keys: Float64Array,
  reasons: Uint8Array,
  guessed: Uint8Array | undefined,
): void {
  const n = cells.length;
  let plan = home;
  // The country cell of the previous row: lists come sorted or by region, so runs of rows
  // share one, and the row's plan is then the previous row's without a look-up. (Before the
  // first row: undefined, whose plan is `home`.)
  let lastCountry: string | undefined;
  let i = 0;
  for (let row = 0; i < n; row++) {
    if (countries !== undefined) {
      const text = countries[row];
      if (text !== lastCountry) {
        lastCountry = text;
        plan = rowPlan(text, home);
      }
    }
    for (const end = i + width; i < end; i++) {
      const result = normalizeWith(cells[i]!, plan, strict);
      if (result.ok) {
        keys[i] = result.key;
        reasons[i] = 0;
        if (guessed !== undefined) guessed[i] = result.international === true ? 1 : 0;
      } else {
        keys[i] = 0;
        reasons[i] = reasonCode(result.reason);
        if (guessed !== undefined) guessed[i] = 0;
      }
    }
  }
}

/** The plan of a row from its raw country cell: its country's, `home` when blank, none when unknown. */
function rowPlan(text: string | undefined, home: Plan | undefined): Plan | undefined {
  if (typeof text !== 'string') return home;
  const country = resolveCountry(text);
  if (country === null) return home;
  // resolveCountry only returns countries libphonenumber-js's metadata has: countryPlan finds
  // them (compiled once, then from its Map).
  return country === undefined ? undefined : countryPlan(country);
}

/**
 * One cell with the fast path, then the reference when the fast path is not sure. `home`
 * undefined: no country.
 */
function normalizeWith(cell: string, home: Plan | undefined, strict: boolean): NormalizeResult {
  // A cell that is not a string fails in the reference exactly as it always did.
  if (typeof cell !== 'string') return normalizeIn(cell, home?.country as CountryCode | undefined, strict);
  const fast = metadataCompilable ? normalizeFast(cell, home, strict) : undefined;
  if (fast !== undefined) return fast;
  const cache = rejectedCells(home, strict);
  const cached = cache.get(cell);
  if (cached !== undefined) return cached;
  const result = normalizeIn(cell, home?.country as CountryCode | undefined, strict);
  if (!result.ok && cell.length <= MAX_CACHED_CELL_LENGTH) {
    if (cachedCells >= MAX_CACHED_CELLS) {
      for (const byPlan of rejectedCaches) byPlan.clear();
      cachedCells = 0;
      lastCache = undefined;
    }
    // The map in hand may have just been dropped: ask again.
    rejectedCells(home, strict).set(cell, result);
    cachedCells++;
  }
  return result;
}

// The cells the fast path left to the reference and the reference rejected, per default country
// (or none) and strictness, since both change the result: uploads repeat the same junk (a
// formula, `ask 2nd office`, `0712 x 2`) thousands of times, and the reference pays for a
// thrown ParseError each time. One map per (country, strictness), so that rows of alternating
// countries keep their entries. Rejections are shared frozen values, so a hit hands out nothing
// a caller could change. Bounded: all cleared when full (per thread, at most MAX_CACHED_CELLS
// strings of at most MAX_CACHED_CELL_LENGTH characters in all).
const MAX_CACHED_CELLS = 1024;
const MAX_CACHED_CELL_LENGTH = 64;
/** [lenient, strict]: plan (undefined: no country) → cell → rejection. */
const rejectedCaches = [
  new Map<Plan | undefined, Map<string, NormalizeResult>>(),
  new Map<Plan | undefined, Map<string, NormalizeResult>>(),
] as const;
let cachedCells = 0;
// The map of the last (plan, strictness) asked for: consecutive cells nearly always share them.
let lastCache: Map<string, NormalizeResult> | undefined;
let lastCachePlan: Plan | undefined;
let lastCacheStrict = false;

/** The rejected-cell map of a plan and strictness (created when missing). */
function rejectedCells(plan: Plan | undefined, strict: boolean): Map<string, NormalizeResult> {
  if (lastCache !== undefined && plan === lastCachePlan && strict === lastCacheStrict) {
    return lastCache;
  }
  const byPlan = rejectedCaches[strict ? 1 : 0];
  let cache = byPlan.get(plan);
  if (cache === undefined) {
    cache = new Map();
    byPlan.set(plan, cache);
  }
  lastCache = cache;
  lastCachePlan = plan;
  lastCacheStrict = strict;
  return cache;
}

// The default country last checked, and its compiled plan: callers pass the same one on every
// call, and `assertCountry` (trim, upper-case, look-up) would otherwise run per cell.
let lastCountry: unknown;
let lastPlan: Plan | undefined;

/**
 * The compiled plan of a default country given by a caller (undefined for null: no country);
 * throws as `assertCountry` does.
 */
function homePlan(defaultCountry: string | null): Plan | undefined {
  if (defaultCountry === null) return undefined;
  if (defaultCountry !== lastCountry || lastPlan === undefined) {
    const plan = countryPlan(assertCountry(defaultCountry));
    lastCountry = defaultCountry;
    lastPlan = plan;
  }
  return lastPlan;
}
