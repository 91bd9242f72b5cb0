/**
 * The country of a valid number, for the report's `by_country`: the region libphonenumber-js
 * gives the E.164 number (`parsePhoneNumber('+' + key).country`), computed without parsing.
 *
 * Parsing costs 5–10 µs a number; this costs one division loop for a calling code used by one
 * region (most of them) and a few precompiled RegExp tests for a shared one (`+1`, `+7`, `+44`…).
 */
import { Metadata, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/metadata.max.json';

/** Region of numbers under a non-geographic calling code (`+800`, `+882`…), as libphonenumber names it. */
export const NON_GEOGRAPHIC_REGION = '001';

/** One country's (or calling code's) counts over the distinct valid numbers. */
export interface CountryTally {
  /** ISO 3166-1 alpha-2 region; `001` for a non-geographic code; null when no region of a shared code claims the number. */
  country: string | null;
  /** Country calling code, digits only (`254`). */
  callingCode: string;
  /** Distinct valid numbers. */
  unique: number;
  /** Distinct numbers found in the index. */
  matched: number;
}

// The parts of libphonenumber-js's NumberingPlan that the library's own `getCountryByNationalNumber`
// reads. They exist at runtime on `Metadata#numberingPlan` but are not in its type declarations.
interface PlanInternals {
  nationalPrefixForParsing(): string | undefined;
  leadingDigits(): string | undefined;
  nationalNumberPattern(): string;
  type(type: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
}

// The types `getNumberType` tries; any match makes the number belong to the region.
const NUMBER_TYPES = [
  'FIXED_LINE',
  'MOBILE',
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
] as const;

/** A calling code shared by several regions, compiled once per process (the library recompiles per call). */
interface SharedCode {
  /** The main plan's national prefix for parsing, anchored; null when it has none. */
  nationalPrefix: RegExp | null;
  /** Its regions, main one first, as the metadata lists them. */
  regions: SharedRegion[];
}

/** One region of a shared calling code. */
interface SharedRegion {
  country: string;
  /** `search(leadingDigits) === 0`, i.e. a match anchored at the start. */
  leadingDigits: RegExp | null;
  nationalNumber: RegExp;
  types: Array<{ pattern: RegExp; lengths: readonly number[] | undefined }>;
}

const compiledShared = new Map<number, SharedCode>();

/** The compiled regions of a shared calling code (the regions listed for it, more than one). */
function sharedCode(code: number, regions: readonly string[]): SharedCode {
  let shared = compiledShared.get(code);
  if (shared === undefined) {
    const plans = new Metadata() as unknown as {
      selectNumberingPlan(country: string): void;
      numberingPlan: PlanInternals;
    };
    // Parsing reads the national number under the code's main plan, the first region's.
    plans.selectNumberingPlan(regions[0]!);
    const prefix = plans.numberingPlan.nationalPrefixForParsing();
    shared = {
      nationalPrefix: prefix ? new RegExp(`^(?:${prefix})`) : null,
      regions: regions.map((country) => {
        plans.selectNumberingPlan(country);
        return compile(plans.numberingPlan, country);
      }),
    };
    compiledShared.set(code, shared);
  }
  return shared;
}

/** Compiles a region's patterns exactly as `matchesEntirely` (`^(?:…)$`) and `search() === 0` read them. */
function compile(plan: PlanInternals, country: string): SharedRegion {
  const leading = plan.leadingDigits();
  const types: SharedRegion['types'] = [];
  for (const name of NUMBER_TYPES) {
    const type = plan.type(name);
    // An empty pattern never matches (`isNumberTypeEqualTo`).
    if (type === undefined || !type.pattern()) continue;
    types.push({ pattern: new RegExp(`^(?:${type.pattern()})$`), lengths: type.possibleLengths() });
  }
  return {
    country,
    leadingDigits: leading ? new RegExp(`^(?:${leading})`) : null,
    nationalNumber: new RegExp(`^(?:${plan.nationalNumberPattern()})$`),
    types,
  };
}

/**
 * The region of the national number `national` under a shared calling code: libphonenumber-js's
 * `getCountryByNationalNumber`, with compiled patterns. The first region, main one first, whose
 * leading digits start the number, or (when it has none) whose national number pattern and some
 * type pattern match the whole number; undefined when none does.
 */
function sharedRegion(code: number, shared: SharedCode, national: string): string | undefined {
  // Parsing may strip a national prefix that starts the digits (`+7 8…`: `8`) before it picks the
  // region. Only then are the digits not the national number as is: ask the library (rare; a
  // valid number seldom starts with its main region's national prefix).
  if (shared.nationalPrefix?.test(national))
    return parsePhoneNumberFromString(`+${code}${national}`)?.country;
  for (const region of shared.regions) {
    if (region.leadingDigits !== null) {
      if (region.leadingDigits.test(national)) return region.country;
      continue;
    }
    if (!region.nationalNumber.test(national)) continue;
    for (const type of region.types) {
      if (type.lengths !== undefined && !type.lengths.includes(national.length)) continue;
      if (type.pattern.test(national)) return region.country;
    }
  }
  return undefined;
}

// Calling codes are 1–3 digits and prefix-free, so the first of 1, 2, 3 leading digits that is a
// code is the code.
const MAX_CALLING_CODE = 999;
// Markers in the calling-code table (slots are ≥ 0).
const UNKNOWN = -1;
const SHARED = -2;
const NOT_A_CODE = -3;
// Powers of ten up to 10^15 (an E.164 key has at most 15 digits).
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * Tallies distinct keys by country: one per match. Slots are made in first-seen order;
 * `counts()` sorts them.
 */
export class CountryCounter {
  readonly #slots: CountryTally[] = [];
  /** By code: its slot (single region, or non-geographic); or UNKNOWN, SHARED or NOT_A_CODE. */
  readonly #codeSlot = new Int32Array(MAX_CALLING_CODE + 1).fill(UNKNOWN);
  /** Slots of the regions of a shared code, and the code's compiled patterns. */
  readonly #shared = new Map<number, { code: SharedCode; slots: Map<string | undefined, number> }>();
  /** Slots of keys that start with no calling code, by their first digits. */
  readonly #noCode = new Map<number, number>();

  /** Counts one distinct valid key; `matched` when it was found in the index. */
  add(key: number, matched: boolean): void {
    const tally = this.#slots[this.#slotOf(key)]!;
    tally.unique++;
    if (matched) tally.matched++;
  }

  /** The countries seen, by unique count descending, then calling code and country (a stable order). */
  counts(): CountryTally[] {
    return [...this.#slots].sort(
      (a, b) =>
        b.unique - a.unique ||
        Number(a.callingCode) - Number(b.callingCode) ||
        (a.country ?? '~').localeCompare(b.country ?? '~'),
    );
  }

  #slotOf(key: number): number {
    let digits = 1;
    while (digits < 15 && key >= POW10[digits]!) digits++;
    const top3 = digits > 3 ? Math.floor(key / POW10[digits - 3]!) : key;
    for (let length = 1; length <= Math.min(3, digits); length++) {
      const code = Math.floor(top3 / POW10[Math.min(3, digits) - length]!);
      let slot = this.#codeSlot[code]!;
      if (slot === UNKNOWN) slot = this.#learn(code);
      if (slot >= 0) return slot;
      if (slot === SHARED) {
        const shared = this.#shared.get(code)!;
        const region = sharedRegion(code, shared.code, String(key).slice(length));
        let regionSlot = shared.slots.get(region);
        if (regionSlot === undefined) {
          regionSlot = this.#newSlot(region ?? null, String(code));
          shared.slots.set(region, regionSlot);
        }
        return regionSlot;
      }
    }
    // Not reachable for a valid number (every one starts with a calling code); counted under its
    // first digits rather than lost or thrown: a report never fails over a count.
    let slot = this.#noCode.get(top3);
    if (slot === undefined) {
      slot = this.#newSlot(null, String(top3));
      this.#noCode.set(top3, slot);
    }
    return slot;
  }

  /** Looks a calling code up in the metadata, once: its slot, SHARED or NOT_A_CODE. */
  #learn(code: number): number {
    const regions = (metadata.country_calling_codes as Record<string, string[] | undefined>)[String(code)];
    let result = NOT_A_CODE;
    if (regions !== undefined && regions.length === 1) result = this.#newSlot(regions[0]!, String(code));
    else if (regions !== undefined && regions.length > 1) {
      this.#shared.set(code, { code: sharedCode(code, regions), slots: new Map() });
      result = SHARED;
    } else if (metadata.nonGeographic[String(code) as keyof typeof metadata.nonGeographic] !== undefined) {
      result = this.#newSlot(NON_GEOGRAPHIC_REGION, String(code));
    }
    this.#codeSlot[code] = result;
    return result;
  }

  #newSlot(country: string | null, callingCode: string): number {
    this.#slots.push({ country, callingCode, unique: 0, matched: 0 });
    return this.#slots.length - 1;
  }
}

/**
 * Counts distinct valid keys and distinct matched keys by country. Both arrays must be sorted
 * ascending (duplicates allowed); matched keys are a subset of the valid ones. One pass over
 * each: the matched membership is a merge, never a second lookup.
 */
export function countByCountry(validSorted: Float64Array, matchedSorted: Float64Array): CountryTally[] {
  const counter = new CountryCounter();
  let j = 0;
  for (let i = 0; i < validSorted.length; i++) {
    const key = validSorted[i]!;
    if (i > 0 && key === validSorted[i - 1]) continue;
    while (j < matchedSorted.length && matchedSorted[j]! < key) j++;
    counter.add(key, j < matchedSorted.length && matchedSorted[j] === key);
  }
  return counter.counts();
}
