import type { UserId } from '@rollcall/index';
import { REJECT_REASONS } from '@rollcall/phone';
import type { BatchResultViews } from './protocol.js';

/** A typed array that grows by doubling; keeps numbers unboxed (8 bytes each). */
class GrowableFloat64 {
  #data = new Float64Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.length++] = value;
  }
  view(): Float64Array {
    return this.#data.subarray(0, this.length);
  }
}

/** {@link GrowableFloat64} for unsigned 64-bit values (user ids never pass through a JS number). */
class GrowableBigUint64 {
  #data = new BigUint64Array(1024);
  length = 0;
  push(value: bigint): void {
    if (this.length === this.#data.length) {
      const next = new BigUint64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.length++] = value;
  }
  view(): BigUint64Array {
    return this.#data.subarray(0, this.length);
  }
}

/** Counts distinct values of a typed array by sorting it in place. */
function countDistinctSorted(values: Float64Array | BigUint64Array): number {
  values.sort();
  let distinct = 0;
  for (let i = 0; i < values.length; i++) if (i === 0 || values[i] !== values[i - 1]) distinct++;
  return distinct;
}

/** The counts and audience of a finished match, before any suppression. */
export interface TallyResult {
  rows: number;
  invalid: number;
  valid: number;
  unique: number;
  matched: number;
  optedOutDropped: number;
  /** Distinct user ids, ascending by numeric value. */
  audience: BigUint64Array;
  invalidByReason: Record<(typeof REJECT_REASONS)[number], number>;
}

/**
 * Folds batch results into the report's counts. Memory grows with the valid and matched rows
 * (8 bytes each, unboxed), never with the file: distinctness is settled once, by sorting, at the end.
 */
export class Tally {
  rows = 0;
  readonly #reasonCounts = new Float64Array(REJECT_REASONS.length + 1);
  readonly #validKeys = new GrowableFloat64();
  readonly #validDigests = new Set<string>();
  readonly #matchedKeys = new GrowableFloat64();
  readonly #optedOutKeys = new GrowableFloat64();
  readonly #audienceIds = new GrowableBigUint64();
  readonly #optedOutIds = new GrowableBigUint64();

  /** Adds one batch. `cells` are needed only for hashed uploads (distinct digests). */
  add(views: BatchResultViews, cells: readonly string[] | null): void {
    const { keys, reasons, found, userIds } = views;
    const n = reasons.length;
    this.rows += n;
    for (let i = 0; i < n; i++) {
      const reason = reasons[i]!;
      this.#reasonCounts[reason]!++;
      if (reason !== 0) continue;
      // Hashed rows: the digest is the identity (an unmatched digest has no known number).
      if (cells !== null) this.#validDigests.add(cells[i]!.trim().toLowerCase());
      else this.#validKeys.push(keys[i]!);
      const f = found[i]!;
      if (f === 0) continue;
      this.#matchedKeys.push(keys[i]!);
      if (f === 2) {
        this.#optedOutKeys.push(keys[i]!);
        this.#optedOutIds.push(userIds[i]!);
      } else this.#audienceIds.push(userIds[i]!);
    }
  }

  /** Settles distinct counts and the sorted audience. Call once, at the end. */
  finish(): TallyResult {
    const invalidByReason = {} as TallyResult['invalidByReason'];
    let invalid = 0;
    REJECT_REASONS.forEach((reason, i) => {
      const count = this.#reasonCounts[i + 1]!;
      invalidByReason[reason] = count;
      invalid += count;
    });
    const unique =
      this.#validDigests.size > 0 ? this.#validDigests.size : countDistinctSorted(this.#validKeys.view());
    const matched = countDistinctSorted(this.#matchedKeys.view());
    const optedOutDropped = countDistinctSorted(this.#optedOutKeys.view());
    return {
      rows: this.rows,
      invalid,
      valid: this.rows - invalid,
      unique,
      matched,
      optedOutDropped,
      audience: audienceOf(this.#audienceIds.view(), this.#optedOutIds.view()),
      invalidByReason,
    };
  }
}

/**
 * Distinct user ids, ascending, with every user who opted out under any matched number removed
 * (opting out is the user's choice, not the number's). BigUint64Array sorts by numeric value,
 * so 2^64 − 1 sorts last.
 */
function audienceOf(ids: BigUint64Array, optedOut: BigUint64Array): BigUint64Array {
  ids.sort();
  optedOut.sort();
  const out = new BigUint64Array(ids.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (n > 0 && out[n - 1] === id) continue;
    while (j < optedOut.length && optedOut[j]! < id) j++;
    if (j < optedOut.length && optedOut[j] === id) continue;
    out[n++] = id;
  }
  return out.slice(0, n);
}

/** The audience file's text: one decimal user id a line, each line ending in `\n`. */
export function formatAudience(audience: BigUint64Array | readonly UserId[]): string {
  let text = '';
  for (const id of audience) text += `${id}\n`;
  return text;
}
