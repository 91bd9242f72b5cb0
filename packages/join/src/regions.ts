/**
 * The country of a valid number, for the report's `by_country`: the region libphonenumber-js
 * gives the E.164 number (`parsePhoneNumber('+' + key).country`), computed without parsing.
 *
 * Parsing costs 5–10 µs a number; this costs one division loop for a calling code used by one
 * region (most of them), and for a shared one (`+1`, `+7`, `+44`…) the phone package's compiled
 * numbering plans (`regionOfNumber`), the ones its normaliser reads.
 */
import { callingCodeCountries, regionOfNumber } from '@rollcall/phone';

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
  /** Slots of the regions of each shared code. */
  readonly #shared = new Map<number, Map<string | undefined, number>>();
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
        const slots = this.#shared.get(code)!;
        const region = regionOfNumber(code, String(key).slice(length));
        let regionSlot = slots.get(region);
        if (regionSlot === undefined) {
          regionSlot = this.#newSlot(region ?? null, String(code));
          slots.set(region, regionSlot);
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
    const countries = callingCodeCountries(code);
    let result = NOT_A_CODE;
    if (countries === null) result = this.#newSlot(NON_GEOGRAPHIC_REGION, String(code));
    else if (countries !== undefined && countries.length === 1)
      result = this.#newSlot(countries[0]!, String(code));
    else if (countries !== undefined && countries.length > 1) {
      this.#shared.set(code, new Map());
      result = SHARED;
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
