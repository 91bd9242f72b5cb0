/**
 * An opt-out is the person's, not the number's: the passes over a table that keep the user's
 * opted-out bit (OPTED_OUT_BIT) equal, on every entry of a user, to "some number of this user has
 * its own opted-out bit (NUMBER_OPTED_OUT_BIT) set". The build runs one pass at the end
 * ({@link settleUserFlags}); `index update` and `index optout` tally the users their changes touch
 * before the rows ({@link tallyBefore}) and settle them after ({@link settleTouched}). Probes read
 * the user's bit only, so the join drops a user matched on any number, whichever number the
 * opt-out was made on.
 *
 * Each pass is one sequential walk of the table: a user's numbers sit in random slots (and, in a
 * sharded index, in random shards), so "the user's other numbers" is never looked up per row.
 */
import { KEY_HI_MASK, NUMBER_OPTED_OUT_BIT, OPTED_OUT_BIT, SLOT, SLOT_WORDS } from './layout.js';
import type { UserIdSet } from './user-set.js';

// The layout's numbers as this module's own constants: read through the imports (live bindings)
// inside the loops below, they made a pass about 3× slower (measured on 2M entries).
const STRIDE = SLOT_WORDS;
const KEY_LO = SLOT.KEY_LO;
const FLAGS = SLOT.KEY_HI_FLAGS;
const USER_LO = SLOT.USER_LO;
const USER_HI = SLOT.USER_HI;
const KEY_MASK = KEY_HI_MASK;
const USER_OUT = OPTED_OUT_BIT;
const NUMBER_OUT = NUMBER_OPTED_OUT_BIT;

/** What {@link settleUserFlags} did. */
export interface SettledFlags {
  /** Entries whose user's bit is set afterwards, in the whole table: the header's opted-out count. */
  optedOut: number;
  /** Entries whose user's bit it set or cleared. */
  changed: number;
}

/**
 * Sets the user's opted-out bit of every entry whose user is in one of `outSets`, and clears it on
 * every other entry, in one pass. With `only`, entries of users outside `only` are left as they
 * are (and still counted). Returns the opted-out count and how many entries changed.
 */
export function settleUserFlags(
  table: Uint32Array,
  capacity: number,
  outSets: readonly UserIdSet[],
  only?: UserIdSet,
): SettledFlags {
  let optedOut = 0;
  let changed = 0;
  for (let s = 0; s < capacity; s++) {
    const w = s * STRIDE;
    const word = table[w + FLAGS]!;
    // Key 0 (both halves) is an empty slot.
    if ((table[w + KEY_LO]! | (word & KEY_MASK)) === 0) continue;
    const was = word >= USER_OUT;
    const lo = table[w + USER_LO]!;
    const hi = table[w + USER_HI]!;
    if (only !== undefined && !only.has(lo, hi)) {
      if (was) optedOut++;
      continue;
    }
    let out = false;
    for (let i = 0; i < outSets.length && !out; i++) out = outSets[i]!.has(lo, hi);
    if (out) optedOut++;
    if (out !== was) {
      table[w + FLAGS] = out ? word + USER_OUT : word - USER_OUT;
      changed++;
    }
  }
  return { optedOut, changed };
}

/** Bits of {@link UserTally.filter}: 2^23 (1 MiB), about 8 bits per member at 1M members. */
const FILTER_BITS = 1 << 23;

/** The filter bit of a user id: 23 well-mixed bits of its halves. */
function filterBit(lo: number, hi: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 9;
}

/**
 * What an update knows of each user it touches, in arrays indexed by the user's place in the
 * touched set (`UserIdSet.indexOf`): how many numbers they have and how many of those carry their
 * own opt-out (counted before the rows, then kept up to date by every row), whether they had a
 * number and were opted out before, and the rows that decide whether they keep an opt-out whose
 * number they lost (the last such loss, and the last opt-in of one of their numbers). One lookup
 * per entry in each pass over a table, and none of the user's other numbers looked up per row.
 */
export class UserTally {
  readonly users: UserIdSet;
  /** Numbers of the user now. */
  readonly numbers: Int32Array;
  /** Numbers of the user now whose own opted-out bit is set. */
  readonly numbersOut: Int32Array;
  /** Bit 0: had a number before the rows; bit 1: their opted-out bit was set before. */
  readonly before: Uint8Array;
  /** Last row that took away a number of theirs carrying its own opt-out (-1: none). */
  readonly lostAt: Int32Array;
  /** Last row that opted one of their numbers in (-1: none). */
  readonly optedInAt: Int32Array;
  /** After the rows: 1 when the user is out (see {@link settleOut}). */
  readonly out: Uint8Array;
  /** After the rows: 1 when the user keeps an opt-out whose number they lost. */
  readonly carried: Uint8Array;
  /**
   * A bitmap of {@link FILTER_BITS} bits, one set per member (by {@link filterBit}): an entry
   * whose user's bit is clear is no member, known from 1 MiB that stays in cache instead of a
   * probe of the set (tens of MiB). Most entries of a table are no member.
   */
  readonly filter = new Int32Array(FILTER_BITS / 32);

  constructor(users: UserIdSet) {
    this.users = users;
    users.forEach((lo, hi) => {
      const b = filterBit(lo, hi);
      this.filter[b >>> 5]! |= 1 << (b & 31);
    });
    const n = users.slots;
    this.numbers = new Int32Array(n);
    this.numbersOut = new Int32Array(n);
    this.before = new Uint8Array(n);
    this.lostAt = new Int32Array(n).fill(-1);
    this.optedInAt = new Int32Array(n).fill(-1);
    this.out = new Uint8Array(n);
    this.carried = new Uint8Array(n);
  }

  /** Ends the counting of the state before the rows. */
  sealBefore(): void {
    const { numbers, before } = this;
    for (let i = 0; i < numbers.length; i++) if (numbers[i]! > 0) before[i]! |= 1;
  }

  /**
   * Decides, after the rows, who is out: a user with a number of theirs opted out, or who lost a
   * number carrying their opt-out after their last opt-in and kept other numbers.
   */
  settleOut(): void {
    const { numbers, numbersOut, lostAt, optedInAt, out, carried } = this;
    for (let i = 0; i < numbers.length; i++) {
      const keeps = numbers[i]! > 0 && lostAt[i]! > optedInAt[i]!;
      carried[i] = keeps ? 1 : 0;
      out[i] = keeps || numbersOut[i]! > 0 ? 1 : 0;
    }
  }
}

/**
 * Counts, for the touched users, their numbers and their numbers opted out, and notes who is
 * opted out. Returns true when the table holds any of them.
 */
export function tallyBefore(table: Uint32Array, capacity: number, tally: UserTally): boolean {
  const { users, numbers, numbersOut, before, filter } = tally;
  let any = false;
  for (let s = 0; s < capacity; s++) {
    const w = s * STRIDE;
    const word = table[w + FLAGS]!;
    if ((table[w + KEY_LO]! | (word & KEY_MASK)) === 0) continue;
    const lo = table[w + USER_LO]!;
    const hi = table[w + USER_HI]!;
    const b = filterBit(lo, hi);
    if ((filter[b >>> 5]! & (1 << (b & 31))) === 0) continue;
    const i = users.indexOf(lo, hi);
    if (i < 0) continue;
    any = true;
    numbers[i]!++;
    if ((word & NUMBER_OUT) !== 0) numbersOut[i]!++;
    if (word >= USER_OUT) before[i]! |= 2;
  }
  return any;
}

/**
 * Settles the entries of the touched users: the number's own bit set on every entry of a user
 * who keeps a lost opt-out, the user's bit set exactly for users who are out. Every other entry
 * is left as is. Returns the table's opted-out count and the entries changed.
 */
export function settleTouched(
  table: Uint32Array,
  capacity: number,
  tally: UserTally,
): { optedOut: number; changed: number } {
  const { users, out, carried, filter } = tally;
  let optedOut = 0;
  let changed = 0;
  for (let s = 0; s < capacity; s++) {
    const w = s * STRIDE;
    const word = table[w + FLAGS]!;
    if ((table[w + KEY_LO]! | (word & KEY_MASK)) === 0) continue;
    const lo = table[w + USER_LO]!;
    const hi = table[w + USER_HI]!;
    const b = filterBit(lo, hi);
    const i = (filter[b >>> 5]! & (1 << (b & 31))) === 0 ? -1 : users.indexOf(lo, hi);
    if (i < 0) {
      if (word >= USER_OUT) optedOut++;
      continue;
    }
    let next = word & KEY_MASK;
    if ((word & NUMBER_OUT) !== 0 || carried[i] === 1) next += NUMBER_OUT;
    if (out[i] === 1) {
      next += USER_OUT;
      optedOut++;
    }
    if (next !== word) {
      table[w + FLAGS] = next;
      changed++;
    }
  }
  return { optedOut, changed };
}
