/**
 * A set of user ids held as their two u32 halves, for the opt-out passes over a table: which
 * users opted out (build), which users a change touched (`index optout`). A `Set<bigint>` would
 * cost a BigInt per entry of the table scanned and ~50 bytes a member; this costs no allocation
 * per lookup and 8 bytes a slot.
 */
import { ErrorCodes, InvalidArgumentError, RollcallError } from '@rollcall/errors';

/** Slots of the smallest set. A power of two, like every capacity (the slot is `hash & mask`). */
const MIN_CAPACITY = 16;
/**
 * Highest load before the set doubles, as 7/10 (the table's own load factor): linear probes stay
 * short, and a member costs 8 / 0.7 ≈ 11.4 to 22.9 bytes (just before / after a doubling).
 */
const LOAD_NUMERATOR = 7;
const LOAD_DENOMINATOR = 10;
/** Most slots: the pairs' Uint32Array must stay under the 2^32-element view limit. */
const MAX_CAPACITY = 2 ** 31;

/** Mixes the halves of a user id into 32 well-spread bits (murmur3's finaliser over both words). */
function mix(lo: number, hi: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A set of user ids, each given as its u32 halves (`lo`, `hi`), as the index's slots hold them.
 * Open addressing with linear probing; the pair (0, 0) marks an empty slot, which no user id
 * (≥ 1) is.
 */
export class UserIdSet {
  /** Pairs of words: [2s] low half, [2s + 1] high half of the id in slot s. */
  #pairs: Uint32Array;
  #mask: number;
  #size = 0;

  /** A set sized for about `expected` members (it grows as needed). */
  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity * LOAD_NUMERATOR < expected * LOAD_DENOMINATOR && capacity < MAX_CAPACITY) capacity *= 2;
    this.#pairs = new Uint32Array(capacity * 2);
    this.#mask = capacity - 1;
  }

  /** Members. */
  get size(): number {
    return this.#size;
  }

  /** Adds the user id (lo, hi); returns true when it was not already a member. */
  add(lo: number, hi: number): boolean {
    lo >>>= 0;
    hi >>>= 0;
    if ((lo | hi) === 0) throw new InvalidArgumentError('userId', 'must be at least 1');
    const found = this.#find(lo, hi);
    if (found >= 0) return false;
    const s = -1 - found;
    this.#pairs[2 * s] = lo;
    this.#pairs[2 * s + 1] = hi;
    if (++this.#size * LOAD_DENOMINATOR > (this.#mask + 1) * LOAD_NUMERATOR) this.#grow();
    return true;
  }

  /** True when the user id (lo, hi) is a member. */
  has(lo: number, hi: number): boolean {
    return this.indexOf(lo, hi) !== -1;
  }

  /**
   * Where the user id (lo, hi) sits, or -1 when it is not a member: a number from 0 to
   * {@link slots} − 1, fixed until the next {@link add} of a new member (which may grow the set).
   * Lets a caller keep its own per-member values in arrays of {@link slots} elements.
   */
  indexOf(lo: number, hi: number): number {
    const s = this.#find(lo >>> 0, hi >>> 0);
    return s >= 0 ? s : -1;
  }

  /** The slot of the u32 halves (lo, hi), or `-1 - s` where `s` is the empty slot ending its probe. */
  #find(lo: number, hi: number): number {
    const pairs = this.#pairs;
    const mask = this.#mask;
    for (let s = mix(lo, hi) & mask; ; s = (s + 1) & mask) {
      const l = pairs[2 * s]!;
      const h = pairs[2 * s + 1]!;
      if (l === lo && h === hi) return s;
      // Always ends: the load factor keeps at least 30% of the slots empty.
      if ((l | h) === 0) return -1 - s;
    }
  }

  /** Slots of the set: every {@link indexOf} is below this. */
  get slots(): number {
    return this.#mask + 1;
  }

  /** Calls `visit(lo, hi, index)` for every member, in no particular order (see {@link indexOf}). */
  forEachIndexed(visit: (lo: number, hi: number, index: number) => void): void {
    const pairs = this.#pairs;
    for (let i = 0; i < pairs.length; i += 2) {
      if ((pairs[i]! | pairs[i + 1]!) !== 0) visit(pairs[i]!, pairs[i + 1]!, i >> 1);
    }
  }

  /** Calls `visit(lo, hi)` for every member, in no particular order. */
  forEach(visit: (lo: number, hi: number) => void): void {
    this.forEachIndexed(visit);
  }

  #grow(): void {
    const old = this.#pairs;
    const capacity = (this.#mask + 1) * 2;
    if (capacity > MAX_CAPACITY) {
      throw new RollcallError(ErrorCodes.INTERNAL, 'more than 1.5 billion opted-out users in one set');
    }
    this.#pairs = new Uint32Array(capacity * 2);
    this.#mask = capacity - 1;
    this.#size = 0;
    for (let i = 0; i < old.length; i += 2) {
      if ((old[i]! | old[i + 1]!) !== 0) this.add(old[i]!, old[i + 1]!);
    }
  }
}
