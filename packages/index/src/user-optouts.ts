/**
 * An opt-out is the person's, not the number's: the passes over a table that keep the user's
 * opted-out bit (OPTED_OUT_BIT) equal, on every entry of a user, to "some number of this user has
 * its own opted-out bit (NUMBER_OPTED_OUT_BIT) set". The build runs one pass at the end; `index
 * optout` runs them over the users its changes touched. Probes read the user's bit only, so the
 * join drops a user matched on any number, whichever number the opt-out was made on.
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

/**
 * For the entries of the users in `users`, adds to `numberOut` each user one of whose numbers here
 * has its own opted-out bit set, and to `userOutBefore` each user whose opted-out bit is set.
 * Returns true when the table holds any entry of those users.
 */
export function gatherUserFlags(
  table: Uint32Array,
  capacity: number,
  users: UserIdSet,
  numberOut: UserIdSet,
  userOutBefore: UserIdSet,
): boolean {
  let any = false;
  for (let s = 0; s < capacity; s++) {
    const w = s * STRIDE;
    const word = table[w + FLAGS]!;
    if ((table[w + KEY_LO]! | (word & KEY_MASK)) === 0) continue;
    const lo = table[w + USER_LO]!;
    const hi = table[w + USER_HI]!;
    if (!users.has(lo, hi)) continue;
    any = true;
    if ((word & NUMBER_OUT) !== 0) numberOut.add(lo, hi);
    if (word >= USER_OUT) userOutBefore.add(lo, hi);
  }
  return any;
}
