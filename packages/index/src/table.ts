/**
 * The open-addressing table (linear probing) over a Uint32Array view of the slots. Shared by the
 * builder, the reader and the opt-out update, so all three walk the same probe sequence.
 */
import { keyHashOfHalves, slotOf } from './key-hash.js';
import {
  KEY_HI_MASK,
  LOAD_DENOMINATOR,
  LOAD_NUMERATOR,
  NUMBER_OPTED_OUT_BIT,
  OPTED_OUT_BIT,
  SLOT,
  SLOT_WORDS,
} from './layout.js';

/**
 * Slots for at most `maxEntries` entries: ceil(maxEntries / 0.7), and at least one more than
 * `maxEntries` so a full table still has an empty slot to end every probe.
 */
export function capacityFor(maxEntries: number): number {
  const c = Math.floor((maxEntries * LOAD_DENOMINATOR + LOAD_NUMERATOR - 1) / LOAD_NUMERATOR);
  return Math.max(c, maxEntries + 1);
}

/**
 * The slot holding the key with halves (lo, hi), or `-1 - s` where `s` is the empty slot that
 * ends its probe sequence (where an insert puts it). Compares the whole key, never a hash.
 * Walks at most `capacity` slots, so even a table that a corrupt header claims is sound (but
 * has no empty slot) cannot loop forever; a walk that finds neither returns `-1 - capacity`.
 */
export function findSlot(table: Uint32Array, capacity: number, seed: number, lo: number, hi: number): number {
  return findSlotFrom(table, capacity, slotOf(keyHashOfHalves(lo, hi, seed), capacity), lo, hi);
}

/** {@link findSlot} from the key's home slot `home`, already computed. */
export function findSlotFrom(
  table: Uint32Array,
  capacity: number,
  home: number,
  lo: number,
  hi: number,
): number {
  let slot = home;
  for (let walked = 0; walked < capacity; walked++) {
    const w = slot * SLOT_WORDS;
    const keyLo = table[w + SLOT.KEY_LO]!;
    const keyHi = table[w + SLOT.KEY_HI_FLAGS]! & KEY_HI_MASK;
    if (keyLo === lo && keyHi === hi) return slot;
    // Key 0 marks an empty slot (no E.164 key is 0). Both halves must be 0: a real key may
    // have a zero low half (e.g. 2^32 × n).
    if ((keyLo | keyHi) === 0) return -1 - slot;
    // Linear probing wraps around: the table is a ring, with no sentinel slot at the end.
    slot = slot + 1 === capacity ? 0 : slot + 1;
  }
  return -1 - capacity;
}

/**
 * Writes an entry into an empty slot. `userLo`/`userHi` are the id's u32 halves. An opted-out
 * number gets both its own bit and its user's bit; the user's other numbers get the user's bit
 * when the build settles the users (user-optouts.ts).
 */
export function writeSlot(
  table: Uint32Array,
  slot: number,
  lo: number,
  hi: number,
  userLo: number,
  userHi: number,
  optedOut: boolean,
): void {
  const w = slot * SLOT_WORDS;
  table[w + SLOT.KEY_LO] = lo;
  table[w + SLOT.KEY_HI_FLAGS] = hi + (optedOut ? OPTED_OUT_BIT + NUMBER_OPTED_OUT_BIT : 0);
  table[w + SLOT.USER_LO] = userLo;
  table[w + SLOT.USER_HI] = userHi;
}

/** The number's own opted-out flag of an occupied slot. */
export function numberOptedOut(table: Uint32Array, slot: number): boolean {
  return (table[slot * SLOT_WORDS + SLOT.KEY_HI_FLAGS]! & NUMBER_OPTED_OUT_BIT) !== 0;
}

/**
 * Sets or clears the number's own opted-out bit of an occupied slot (not its user's: see
 * user-optouts.ts); returns true when it changed.
 */
export function setNumberOptedOut(table: Uint32Array, slot: number, optedOut: boolean): boolean {
  const w = slot * SLOT_WORDS + SLOT.KEY_HI_FLAGS;
  const word = table[w]!;
  if (((word & NUMBER_OPTED_OUT_BIT) !== 0) === optedOut) return false;
  // `>>> 0`: `^` yields an int32, negative when bit 31 is set; the table holds it as u32 anyway.
  table[w] = (word ^ NUMBER_OPTED_OUT_BIT) >>> 0;
  return true;
}
