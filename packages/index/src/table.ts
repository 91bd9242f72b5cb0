/**
 * The open-addressing table (linear probing) over a Uint32Array view of the slots. Shared by the
 * builder, the reader and the update, so all walk the same probe sequence; an entry is removed by
 * backward shift and a table grows by rehashing, here too.
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

// The layout's numbers as this module's own constants for the passes below, which may walk a
// whole table: read through the imports (live bindings) inside such loops they cost about 1.5 to
// 3× (see user-optouts.ts).
const STRIDE = SLOT_WORDS;
const KEY_LO = SLOT.KEY_LO;
const FLAGS = SLOT.KEY_HI_FLAGS;
const KEY_MASK = KEY_HI_MASK;

/**
 * Removes the entry in `slot` by backward shift: every later entry of the same run that may sit
 * earlier moves into the hole, so every remaining key is still found by walking from its home
 * slot, and no slot is left marked deleted.
 */
export function removeSlot(table: Uint32Array, capacity: number, seed: number, slot: number): void {
  let hole = slot;
  let j = slot;
  for (;;) {
    j = j + 1 === capacity ? 0 : j + 1;
    const w = j * STRIDE;
    const lo = table[w + KEY_LO]!;
    const hi = table[w + FLAGS]! & KEY_MASK;
    if ((lo | hi) === 0) break;
    const home = slotOf(keyHashOfHalves(lo, hi, seed), capacity);
    // The entry at j may move to the hole unless its home lies cyclically in (hole, j].
    const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
    if (!stays) {
      const h = hole * STRIDE;
      table[h] = table[w]!;
      table[h + 1] = table[w + 1]!;
      table[h + 2] = table[w + 2]!;
      table[h + 3] = table[w + 3]!;
      hole = j;
    }
  }
  table.fill(0, hole * STRIDE, hole * STRIDE + STRIDE);
}

/** Re-inserts every entry of `from` into the empty table `to` (flags and users as they are). */
export function rehash(
  from: Uint32Array,
  fromCapacity: number,
  to: Uint32Array,
  capacity: number,
  seed: number,
): void {
  for (let s = 0; s < fromCapacity; s++) {
    const w = s * STRIDE;
    const lo = from[w + KEY_LO]!;
    const hi = from[w + FLAGS]! & KEY_MASK;
    if ((lo | hi) === 0) continue;
    // Every key is new to `to`: the first empty slot from its home is its place (no compare).
    let at = slotOf(keyHashOfHalves(lo, hi, seed), capacity);
    while ((to[at * STRIDE + KEY_LO]! | to[at * STRIDE + FLAGS]!) !== 0)
      at = at + 1 === capacity ? 0 : at + 1;
    const t = at * STRIDE;
    to[t] = from[w]!;
    to[t + 1] = from[w + 1]!;
    to[t + 2] = from[w + 2]!;
    to[t + 3] = from[w + 3]!;
  }
}
