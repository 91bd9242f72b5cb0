/**
 * The reader over an index image in a SharedArrayBuffer: exact probes by key, in batches, and by
 * SHA-256 digest. Never copies the image; every worker thread wraps the same buffer.
 */
import { ErrorCodes, IndexCorruptError, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { type PhoneKey, SHA256_BYTES } from '@rollcall/phone';
import { publicHeader, type RawHeader, readVerifiedHeader } from './header.js';
import { keyHashOfHalves, slotOf } from './key-hash.js';
import {
  assertLittleEndian,
  HEADER_BYTES,
  KEY_HI_MASK,
  OPTED_OUT_BIT,
  SLOT,
  SLOT_WORDS,
  TWO_POW_32,
} from './layout.js';
import { findBySha256, type Sha256Runs, sha256Runs } from './sha256-section.js';
import { findSlot } from './table.js';
import type { HashConvention, IndexHeader, IndexReader, ProbeHit } from './types.js';
import { userIdFromHalves } from './user-id.js';

/** `found[i]` codes written by `probeBatch`. */
export const FOUND = {
  ABSENT: 0,
  PRESENT: 1,
  OPTED_OUT: 2,
} as const;

/**
 * Keys per round of `probeBatch`. Each round first computes every home slot, then touches them
 * all, then compares: the touch pass is a short loop of independent loads with no data-dependent
 * branches, so the CPU keeps many cache misses in flight at once instead of waiting for each
 * one in turn (JavaScript has no prefetch instruction; this is the next best thing). 256 slots
 * are 256 cache lines, 16 KiB: they are still in L1 when the compare pass reaches them.
 */
const BATCH_ROUND = 256;

/** u32 words per u64 of `userIds` (low word first: little-endian). */
const U64_WORDS = 2;

/** Where the touch pass leaves its result: a store the optimiser cannot prove dead. */
const touchSink = { value: 0 };

class SharedIndexReader implements IndexReader {
  readonly header: IndexHeader;
  readonly buffer: SharedArrayBuffer;
  readonly #table: Uint32Array;
  readonly #capacity: number;
  readonly #seed: number;
  readonly #entries: number;
  readonly #runs: Sha256Runs | undefined;
  // Scratch of probeBatch, reused across calls (a reader belongs to one thread).
  readonly #slots = new Float64Array(BATCH_ROUND);
  readonly #los = new Uint32Array(BATCH_ROUND);
  readonly #his = new Float64Array(BATCH_ROUND);

  constructor(buffer: SharedArrayBuffer, raw: RawHeader) {
    this.buffer = buffer;
    this.header = Object.freeze(publicHeader(raw));
    this.#capacity = raw.capacity;
    this.#seed = raw.hashSeed;
    this.#entries = raw.entries;
    this.#table = new Uint32Array(buffer, raw.tableOffset, raw.capacity * SLOT_WORDS);
    this.#runs = raw.hasSha256 ? sha256Runs(buffer, raw.sha256Offset, raw.entries) : undefined;
  }

  probe(key: PhoneKey): ProbeHit | undefined {
    // Also false for NaN. A non-integer key gets a fractional high half that equals no stored one.
    if (!(key > 0)) return undefined;
    // `>>> 0` is key mod 2^32, exact below 2^53; the difference is an exact multiple of 2^32.
    const lo = key >>> 0;
    const slot = findSlot(this.#table, this.#capacity, this.#seed, lo, (key - lo) / TWO_POW_32);
    if (slot < 0) return undefined;
    const w = slot * SLOT_WORDS;
    const t = this.#table;
    return {
      userId: userIdFromHalves(t[w + SLOT.USER_HI]!, t[w + SLOT.USER_LO]!),
      optedOut: t[w + SLOT.KEY_HI_FLAGS]! >= OPTED_OUT_BIT,
    };
  }

  probeBatch(keys: Float64Array, count: number, found: Uint8Array, userIds: BigUint64Array): void {
    if (!Number.isInteger(count) || count < 0 || count > keys.length) {
      throw new InvalidArgumentError(
        'count',
        `must be an integer from 0 to keys.length (${keys.length}), got ${count}`,
      );
    }
    if (found.length < count)
      throw new InvalidArgumentError('found', `holds ${found.length} < count ${count}`);
    if (userIds.length < count)
      throw new InvalidArgumentError('userIds', `holds ${userIds.length} < count ${count}`);
    // Ids are written as two u32 words through a view of the same memory: creating a BigInt per
    // hit would cost more than the probe. Little-endian: low word first (see layout.ts).
    const idWords = new Uint32Array(userIds.buffer, userIds.byteOffset, count * U64_WORDS);
    const t = this.#table;
    const capacity = this.#capacity;
    const seed = this.#seed;
    const slots = this.#slots;
    const los = this.#los;
    const his = this.#his;
    for (let base = 0; base < count; base += BATCH_ROUND) {
      const n = Math.min(BATCH_ROUND, count - base);
      // Pass 1: home slots of the whole round (pure arithmetic, no memory touched).
      for (let i = 0; i < n; i++) {
        const key = keys[base + i]!;
        if (!(key > 0)) {
          slots[i] = -1;
          continue;
        }
        const lo = key >>> 0;
        const hi = (key - lo) / TWO_POW_32;
        los[i] = lo;
        his[i] = hi;
        slots[i] = slotOf(keyHashOfHalves(lo, hi, seed), capacity);
      }
      // Pass 2: touch every home slot, so the misses overlap (see BATCH_ROUND). The sum only
      // keeps the loads from being optimised away.
      let touched = 0;
      for (let i = 0; i < n; i++) {
        const s = slots[i]!;
        if (s >= 0) touched ^= t[s * SLOT_WORDS]!;
      }
      // Pass 3: walk and compare, now mostly in cache.
      for (let i = 0; i < n; i++) {
        const at = base + i;
        let slot = slots[i]!;
        let hit = -1;
        if (slot >= 0) {
          const lo = los[i]!;
          const hi = his[i]!;
          for (let walked = 0; walked < capacity; walked++) {
            const w = slot * SLOT_WORDS;
            const keyLo = t[w + SLOT.KEY_LO]!;
            const keyHi = t[w + SLOT.KEY_HI_FLAGS]! & KEY_HI_MASK;
            if (keyLo === lo && keyHi === hi) {
              hit = slot;
              break;
            }
            // Empty slot (key 0: both halves zero) ends the probe: the key is absent.
            if ((keyLo | keyHi) === 0) break;
            slot = slot + 1 === capacity ? 0 : slot + 1;
          }
        }
        if (hit < 0) {
          found[at] = FOUND.ABSENT;
          idWords[U64_WORDS * at] = 0;
          idWords[U64_WORDS * at + 1] = 0;
        } else {
          const w = hit * SLOT_WORDS;
          found[at] = t[w + SLOT.KEY_HI_FLAGS]! >= OPTED_OUT_BIT ? FOUND.OPTED_OUT : FOUND.PRESENT;
          idWords[U64_WORDS * at] = t[w + SLOT.USER_LO]!;
          idWords[U64_WORDS * at + 1] = t[w + SLOT.USER_HI]!;
        }
      }
      // Stored where the optimiser cannot prove it unused, so the loads of pass 2 stay.
      touchSink.value = touched;
    }
  }

  probeSha256(digest: Uint8Array, convention: HashConvention): PhoneKey | undefined {
    if (this.#runs === undefined) {
      throw new RollcallError(
        ErrorCodes.INDEX_MISSING_SECTION,
        'the index has no SHA-256 section, so pre-hashed uploads cannot match: rebuild it with --with-sha256',
      );
    }
    if (!(digest instanceof Uint8Array) || digest.length !== SHA256_BYTES) {
      throw new InvalidArgumentError('digest', 'must be a 32-byte SHA-256 digest');
    }
    if (convention !== 'meta' && convention !== 'google') {
      throw new InvalidArgumentError('convention', `must be "meta" or "google", got ${String(convention)}`);
    }
    return findBySha256(this.#runs, this.#table, this.#capacity, this.#entries, digest, convention);
  }
}

/** A reader over an image whose header `raw` was already verified. */
export function readerOfImage(buffer: SharedArrayBuffer, raw: RawHeader): IndexReader {
  assertLittleEndian();
  return new SharedIndexReader(buffer, raw);
}

/**
 * Wraps an index image already in shared memory (what each worker thread calls with the buffer it
 * received), without copying. Checks the header (magic, version, header checksum, consistency,
 * size) but not the payload checksum, which was verified when the file was loaded. A buffer
 * longer than the image is accepted (the extra bytes are ignored). Throws `IndexCorruptError`.
 */
export async function indexFromBuffer(
  buffer: SharedArrayBuffer,
  name = '<shared index>',
): Promise<IndexReader> {
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new InvalidArgumentError('buffer', 'must be a SharedArrayBuffer holding an index image');
  }
  const head = new Uint8Array(buffer, 0, Math.min(buffer.byteLength, HEADER_BYTES));
  const raw = await readVerifiedHeader(head, name);
  if (buffer.byteLength < raw.fileBytes) {
    throw new IndexCorruptError(
      name,
      `truncated: ${buffer.byteLength} bytes, the header says ${raw.fileBytes}`,
    );
  }
  return readerOfImage(buffer, raw);
}
