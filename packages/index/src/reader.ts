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
  SLOT_BYTES,
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

/**
 * Fewest keys for which `probeBatch` partitions the batch first (see `#probePartitioned`).
 * Measured against the rounds alone on the bench's 10M-entry table (229 MB), one thread, CPU
 * time: no gain at 131,072 keys a call, 1.25× at 500,000, 1.3–1.5× at 1M and 2M.
 */
const PARTITION_MIN_KEYS = 1 << 19;

/**
 * Bytes of table each partition should cover: about one core's L2 cache (1 MiB on the machines
 * measured). A partition's probes then stay within ≈ 250 pages, which the TLB still holds, where
 * probes spread over the whole table miss the TLB as well as the cache on almost every touch.
 * 256 partitions of the 229 MB table (≈ 0.9 MB each) measured 1.2× faster than 64 or 1,024;
 * 128 to 512 measured alike.
 */
const PARTITION_SLICE_BYTES = 1 << 20;

/** Most partitions (2^12): the counts array stays small, and more only slows the scatter. */
const MAX_PARTITION_BITS = 12;

/** u32 words per u64 of `userIds` (low word first: little-endian). */
const U64_WORDS = 2;

// The layout's numbers as this module's own constants: read through the imports (live bindings)
// inside the probe loops they cost measurably more (see user-optouts.ts).
const STRIDE = SLOT_WORDS;
const KEY_LO = SLOT.KEY_LO;
const FLAGS = SLOT.KEY_HI_FLAGS;
const USER_LO = SLOT.USER_LO;
const USER_HI = SLOT.USER_HI;
const KEY_MASK = KEY_HI_MASK;
/** Keys this large are never stored (a key's high half has 18 bits: < 2^50): absent at once. */
const KEY_LIMIT = (KEY_HI_MASK + 1) * TWO_POW_32;
const USER_OUT = OPTED_OUT_BIT;
const SPLIT = TWO_POW_32;
const ABSENT = 0;
const PRESENT = 1;
const OPTED_OUT = 2;

/** Where the touch passes leave their result: a store the optimiser cannot prove dead. */
const touchSink = { value: 0 };

/**
 * Partition bits for a table of `capacity` slots: log2 of its bytes over
 * {@link PARTITION_SLICE_BYTES}, rounded, from 0 (a table that fits in L2: no partitioning) to
 * {@link MAX_PARTITION_BITS}.
 */
function partitionBitsFor(capacity: number): number {
  const bits = Math.round(Math.log2((capacity * SLOT_BYTES) / PARTITION_SLICE_BYTES));
  return Math.max(0, Math.min(MAX_PARTITION_BITS, bits));
}

/**
 * Whether a slot could hold `key`: a positive integer below 2^50 (whose high half fits the
 * slot's 18 bits). Every other number (0, NaN, a fraction, a negative, a huge number) is absent
 * without a probe; the check also keeps the high half exact in the probes' Int32Array scratch.
 */
function holdable(key: number): boolean {
  return key > 0 && key < KEY_LIMIT && key === Math.floor(key);
}

/**
 * The slot of the key with halves (lo, hi) walking from `slot`, or -1 when an empty slot ends the
 * walk first (absent). Walks at most `capacity` slots (a corrupt table with no empty slot).
 * Word indices are `slot * STRIDE`, not `slot << 2`: a table may have up to 2^30 slots, whose
 * word index overflows an int32.
 */
function walk(t: Uint32Array, capacity: number, slot: number, lo: number, hi: number): number {
  for (let walked = 0; walked < capacity; walked++) {
    const w = slot * STRIDE;
    const keyLo = t[w + KEY_LO]!;
    const keyHi = t[w + FLAGS]! & KEY_MASK;
    if (keyLo === lo && keyHi === hi) return slot;
    // Empty slot (key 0: both halves zero) ends the probe: the key is absent.
    if ((keyLo | keyHi) === 0) return -1;
    slot = slot + 1 === capacity ? 0 : slot + 1;
  }
  return -1;
}

/**
 * Scratch of the partitioned probe, per input key: its hash and its rank (position in partition
 * order), and per rank: the key, its home slot and its answer. 29 bytes a key, grown to the
 * largest batch seen and kept (a reader belongs to one thread): 29 MB for 1M-key batches.
 */
class PartitionScratch {
  hashes = new Int32Array(0);
  ranks = new Int32Array(0);
  keys = new Float64Array(0);
  homes = new Int32Array(0);
  found = new Uint8Array(0);
  idWords = new Uint32Array(0);
  counts = new Int32Array(0);

  grow(count: number, partitions: number): void {
    if (this.hashes.length < count) {
      this.hashes = new Int32Array(count);
      this.ranks = new Int32Array(count);
      this.keys = new Float64Array(count);
      this.homes = new Int32Array(count);
      this.found = new Uint8Array(count);
      this.idWords = new Uint32Array(U64_WORDS * count);
    }
    if (this.counts.length < partitions + 1) this.counts = new Int32Array(partitions + 1);
  }
}

class SharedIndexReader implements IndexReader {
  readonly header: IndexHeader;
  readonly buffer: SharedArrayBuffer;
  readonly #table: Uint32Array;
  readonly #capacity: number;
  readonly #seed: number;
  readonly #entries: number;
  readonly #runs: Sha256Runs | undefined;
  readonly #partitionBits: number;
  // Scratch of probeBatch, reused across calls (a reader belongs to one thread).
  readonly #homes = new Int32Array(BATCH_ROUND);
  readonly #los = new Uint32Array(BATCH_ROUND);
  readonly #his = new Int32Array(BATCH_ROUND);
  #partition: PartitionScratch | undefined;

  constructor(buffer: SharedArrayBuffer, raw: RawHeader) {
    this.buffer = buffer;
    this.header = Object.freeze(publicHeader(raw));
    this.#capacity = raw.capacity;
    this.#seed = raw.hashSeed;
    this.#entries = raw.entries;
    this.#table = new Uint32Array(buffer, raw.tableOffset, raw.capacity * SLOT_WORDS);
    this.#runs = raw.hasSha256 ? sha256Runs(buffer, raw.sha256Offset, raw.entries) : undefined;
    this.#partitionBits = partitionBitsFor(raw.capacity);
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
    if (count >= PARTITION_MIN_KEYS && this.#partitionBits > 0) {
      this.#partition ??= new PartitionScratch();
      this.#probePartitioned(keys, count, found, idWords, this.#partition);
    } else {
      this.#probeRounds(keys, count, found, idWords);
    }
  }

  /** probeBatch in input order, in rounds of {@link BATCH_ROUND}: compute, touch, compare. */
  #probeRounds(keys: Float64Array, count: number, found: Uint8Array, idWords: Uint32Array): void {
    const t = this.#table;
    const capacity = this.#capacity;
    const seed = this.#seed;
    const homes = this.#homes;
    const los = this.#los;
    const his = this.#his;
    for (let base = 0; base < count; base += BATCH_ROUND) {
      const n = Math.min(BATCH_ROUND, count - base);
      // Pass 1: home slots of the whole round (pure arithmetic, no memory touched). A key that no
      // slot can hold gets home -1.
      for (let i = 0; i < n; i++) {
        const key = keys[base + i]!;
        if (!holdable(key)) {
          homes[i] = -1;
          continue;
        }
        const lo = key >>> 0;
        const hi = (key - lo) / SPLIT;
        los[i] = lo;
        his[i] = hi;
        homes[i] = slotOf(keyHashOfHalves(lo, hi, seed), capacity);
      }
      // Pass 2: touch every home slot, so the misses overlap (see BATCH_ROUND).
      let touched = 0;
      for (let i = 0; i < n; i++) {
        const home = homes[i]!;
        if (home >= 0) touched ^= t[home * STRIDE]!;
      }
      touchSink.value = touched;
      // Pass 3: walk and compare, now mostly in cache.
      for (let i = 0; i < n; i++) {
        const at = base + i;
        const home = homes[i]!;
        const hit = home < 0 ? -1 : walk(t, capacity, home, los[i]!, his[i]!);
        if (hit < 0) {
          found[at] = ABSENT;
          idWords[U64_WORDS * at] = 0;
          idWords[U64_WORDS * at + 1] = 0;
        } else {
          const w = hit * STRIDE;
          found[at] = t[w + FLAGS]! >= USER_OUT ? OPTED_OUT : PRESENT;
          idWords[U64_WORDS * at] = t[w + USER_LO]!;
          idWords[U64_WORDS * at + 1] = t[w + USER_HI]!;
        }
      }
    }
  }

  /**
   * probeBatch of a large batch: a radix partition of the keys by the top bits of their hash
   * (which orders home slots: `slotOf` is monotonic in the hash), then the rounds, partition by
   * partition, then the answers put back in input order. Each partition's probes fall in one
   * slice of the table of about {@link PARTITION_SLICE_BYTES}, so its pages stay in the TLB and
   * its lines mostly in L2; the probes in input order would each miss both. Exact: the same walk
   * and compare as the rounds, only in another order.
   *
   *   pass 1  input order      hash, count per partition      (sequential)
   *   pass 2  input order      rank = next place of its partition; key, home to that rank
   *   pass 3  rank order       touch a round of homes, walk, answer to the rank   (the probes)
   *   pass 4  input order      answer of its rank → found, userIds   (reads gathered, writes sequential)
   */
  #probePartitioned(
    keys: Float64Array,
    count: number,
    found: Uint8Array,
    idWords: Uint32Array,
    scratch: PartitionScratch,
  ): void {
    const t = this.#table;
    const capacity = this.#capacity;
    const seed = this.#seed;
    const bits = this.#partitionBits;
    const partitions = 1 << bits;
    const shift = 32 - bits;
    scratch.grow(count, partitions);
    const { hashes, ranks, homes, counts } = scratch;
    const sortedKeys = scratch.keys;
    const sortedFound = scratch.found;
    const sortedIds = scratch.idWords;
    counts.fill(0, 0, partitions + 1);
    // Pass 1. A key no slot can hold (see #probeRounds) gets no partition.
    let valid = 0;
    for (let i = 0; i < count; i++) {
      const key = keys[i]!;
      if (!holdable(key)) continue;
      const lo = key >>> 0;
      const hash = keyHashOfHalves(lo, (key - lo) / SPLIT, seed);
      // Stored as int32 (the same 32 bits); `>>> 0` reads it back unsigned.
      hashes[i] = hash;
      counts[(hash >>> shift) + 1]!++;
      valid++;
    }
    // counts[p] becomes the first rank of partition p.
    for (let p = 0; p < partitions; p++) counts[p + 1]! += counts[p]!;
    // Pass 2. Keys that no slot holds take the ranks after the valid ones, answered absent.
    let invalidRank = valid;
    for (let i = 0; i < count; i++) {
      const key = keys[i]!;
      if (!holdable(key)) {
        ranks[i] = invalidRank;
        sortedFound[invalidRank] = ABSENT;
        sortedIds[U64_WORDS * invalidRank] = 0;
        sortedIds[U64_WORDS * invalidRank + 1] = 0;
        invalidRank++;
        continue;
      }
      const hash = hashes[i]! >>> 0;
      const rank = counts[hash >>> shift]!++;
      ranks[i] = rank;
      sortedKeys[rank] = key;
      homes[rank] = slotOf(hash, capacity);
    }
    // Pass 3.
    for (let base = 0; base < valid; base += BATCH_ROUND) {
      const end = Math.min(valid, base + BATCH_ROUND);
      let touched = 0;
      for (let r = base; r < end; r++) touched ^= t[homes[r]! * STRIDE]!;
      touchSink.value = touched;
      for (let r = base; r < end; r++) {
        const key = sortedKeys[r]!;
        const lo = key >>> 0;
        const hit = walk(t, capacity, homes[r]!, lo, (key - lo) / SPLIT);
        if (hit < 0) {
          sortedFound[r] = ABSENT;
          sortedIds[U64_WORDS * r] = 0;
          sortedIds[U64_WORDS * r + 1] = 0;
        } else {
          const w = hit * STRIDE;
          sortedFound[r] = t[w + FLAGS]! >= USER_OUT ? OPTED_OUT : PRESENT;
          sortedIds[U64_WORDS * r] = t[w + USER_LO]!;
          sortedIds[U64_WORDS * r + 1] = t[w + USER_HI]!;
        }
      }
    }
    // Pass 4.
    for (let i = 0; i < count; i++) {
      const r = ranks[i]!;
      found[i] = sortedFound[r]!;
      idWords[U64_WORDS * i] = sortedIds[U64_WORDS * r]!;
      idWords[U64_WORDS * i + 1] = sortedIds[U64_WORDS * r + 1]!;
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
