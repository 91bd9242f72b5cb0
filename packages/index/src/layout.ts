/**
 * The binary layout of an index file, in one place. Every offset, stride and bit of the format
 * lives here; no other file writes a bare number of the layout.
 *
 *   [ header: 256 bytes ][ table: capacity × 16-byte slots ][ SHA-256 section (optional) ]
 *
 * All integers are little-endian. The file is read into one SharedArrayBuffer with a single
 * sequential read and viewed in place through typed arrays, which use the platform's byte
 * order: the format is little-endian because every platform Node runs the index on (x64,
 * arm64) is, and {@link assertLittleEndian} refuses the others rather than misreading.
 */

import { ErrorCodes, RollcallError } from '@rollcall/errors';

/**
 * The first 8 bytes of every index file: `\x89RCIDX\r\n`. As in PNG, the high-bit first byte
 * catches 7-bit transfers and the CR LF pair catches line-ending conversion, so a mangled copy is
 * refused as "not an index" instead of read as garbage.
 */
export const MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x89, 0x52, 0x43, 0x49, 0x44, 0x58, 0x0d, 0x0a);

/**
 * Version of the layout below. A reader refuses any other: the index is rebuilt, never guessed at.
 * Version 2 (issue 16): an opt-out is the person's. Bit 31 of a slot's KEY_HI_FLAGS word became
 * the USER's opted-out flag (set on every number of a user who opted out on any one), and bit 30
 * the number's own flag from the source. A version 1 file holds only per-number flags, so a user
 * opted out on one number matched on another: it is refused, not read, and must be rebuilt.
 */
export const FORMAT_VERSION = 2;

/**
 * Header size. A multiple of 64, so the table that follows starts on a cache-line boundary and no
 * 16-byte slot straddles two lines: a probe that hits its first slot touches one line.
 */
export const HEADER_BYTES = 256;

/** Byte offsets of the header fields. u32 = 4 bytes, u64 = 8 bytes, all little-endian. */
export const HEADER = {
  /** 8 bytes, {@link MAGIC}. Magic and version keep these offsets in every future version. */
  MAGIC: 0,
  /** u32, {@link FORMAT_VERSION}. */
  FORMAT_VERSION: 8,
  /** u32, {@link HEADER_BYTES}: lets a reader check it is reading the header it expects. */
  HEADER_BYTES: 12,
  /** u32, {@link SLOT_BYTES}. */
  SLOT_BYTES: 16,
  /** u32, bit set of {@link FLAGS}. */
  FLAGS: 20,
  /** u32, seed of {@link keyHash} for this file (sharding and the join must use the same). */
  HASH_SEED: 24,
  /** u32, this file's shard number, 0-based. */
  SHARD: 28,
  /** u32, number of shards the full index is split into (1 = not sharded). */
  SHARD_COUNT: 32,
  /** u32, {@link SHA256_RECORD_BYTES} (0 when there is no SHA-256 section). */
  SHA256_RECORD_BYTES: 36,
  /** u64, entries in the table. */
  ENTRIES: 40,
  /** u64, slots in the table. */
  CAPACITY: 48,
  /**
   * u64, ENTRIES (numbers, not users) whose user-opted-out bit ({@link OPTED_OUT_BIT}) is set:
   * every number of every user who opted out on any of their numbers, i.e. the numbers that can
   * add no one to an audience.
   */
  OPTED_OUT: 56,
  /** u64, entries that are E.164 but not a valid range under the metadata. */
  NEVER_MATCHABLE: 64,
  /** u64, build time, ms since the epoch. */
  BUILT_AT: 72,
  /** u64, time opt-outs were last applied, ms since the epoch (= BUILT_AT until then). */
  UPDATED_AT: 80,
  /** u64, byte offset of the table (= {@link HEADER_BYTES}). */
  TABLE_OFFSET: 88,
  /** u64, bytes of the table (= capacity × {@link SLOT_BYTES}). */
  TABLE_BYTES: 96,
  /** u64, byte offset of the SHA-256 section (0 when absent). */
  SHA256_OFFSET: 104,
  /** u64, bytes of the SHA-256 section (0 when absent). */
  SHA256_BYTES: 112,
  /** u64, bytes of the whole file; a longer or shorter file is corrupt. */
  FILE_BYTES: 120,
  /** u64, xxh64 (seed 0) of bytes [HEADER_BYTES, FILE_BYTES): the payload. */
  PAYLOAD_CHECKSUM: 128,
  /** {@link METADATA_VERSION_BYTES} of ASCII, NUL-padded: libphonenumber-js version that judged validity. */
  METADATA_VERSION: 136,
  /** {@link METADATA_SET_BYTES} of ASCII, NUL-padded: the metadata set (`max`). */
  METADATA_SET: 168,
  /**
   * u64, the index's generation: 0 when built, one more after every `index update` (or
   * `index optout`) that changed it. Bytes 184 … 199 were reserved (zeros) in the first files of
   * version 2, which therefore read as generation 0 with an empty eligibility log: no version bump.
   */
  GENERATION: 184,
  /**
   * u64, bytes of the eligibility log (`<index>.eligibility.log`, see eligibility-log.ts) that
   * belong to this generation: a reader reads the log only up to here, so records an update
   * appended before it was cut short (its index never renamed into place) are never read.
   */
  LOG_BYTES: 192,
  // Bytes 200 … 247 are reserved and written as zeros (the header checksum covers them).
  /**
   * u64, xxh64 (seed 0) of header bytes [0, HEADER_CHECKSUM). Last, so it covers every other
   * field, the payload checksum included: a valid header vouches for the payload's checksum.
   */
  HEADER_CHECKSUM: 248,
} as const;

/** Room for the metadata version string (e.g. `1.13.16`). */
export const METADATA_VERSION_BYTES = 32;
/** Room for the metadata set name (e.g. `max`). */
export const METADATA_SET_BYTES = 16;

/** Bits of the FLAGS header field. */
export const FLAGS = {
  /** The file holds the SHA-256 section. */
  SHA256: 1,
} as const;

/** Every flag bit this version knows; a file with another bit set is from a newer writer. */
export const KNOWN_FLAGS = FLAGS.SHA256;

/** Where the table starts: right after the header (cache-line aligned, see {@link HEADER_BYTES}). */
export const TABLE_OFFSET = HEADER_BYTES;

/**
 * One slot of the open-addressing table: 16 bytes read as four u32 words. Four u32 rather than
 * two u64 so probing never creates a BigInt; 16 bytes so four slots fill a 64-byte cache line
 * exactly and linear probing mostly stays inside the line it started on.
 */
export const SLOT_BYTES = 16;
/** {@link SLOT_BYTES} in u32 words: the stride of a slot in a Uint32Array view of the table. */
export const SLOT_WORDS = 4;

/** Word offsets inside a slot. */
export const SLOT = {
  /** Key bits 0 … 31. */
  KEY_LO: 0,
  /**
   * Key bits 32 … 49 in bits 0 … 17, the user's opted-out flag in bit 31, the number's own
   * opted-out flag in bit 30, bits 18 … 29 zero. A key has at most 15 decimal digits,
   * < 10^15 < 2^50, so its top half needs 18 bits and the flags ride in the spare ones instead of
   * costing a byte (and alignment) of their own.
   */
  KEY_HI_FLAGS: 1,
  /** User id bits 0 … 31. */
  USER_LO: 2,
  /** User id bits 32 … 63. */
  USER_HI: 3,
} as const;

/** Mask of the key bits in the KEY_HI_FLAGS word. */
export const KEY_HI_MASK = 0x3ffff;
/**
 * The USER's opted-out bit of the KEY_HI_FLAGS word: set on every entry of a user any of whose
 * numbers is opted out (its {@link NUMBER_OPTED_OUT_BIT} is set), wherever in the index (in
 * whichever shard) that number sits. The one bit probes read: the join never has to know a user's
 * other numbers. The top bit, so a probe tests it as `word >= OPTED_OUT_BIT`.
 */
export const OPTED_OUT_BIT = 0x80000000;
/**
 * The NUMBER's own opted-out bit of the KEY_HI_FLAGS word: what the source row or the last
 * `index optout` row said about this number. Kept apart from {@link OPTED_OUT_BIT} so that opting
 * one number back in can recompute its user's flag from the user's other numbers (a user stays
 * out while any of them is opted out). Invariant: for every user, OPTED_OUT_BIT is set on all of
 * their entries exactly when this bit is set on at least one.
 */
export const NUMBER_OPTED_OUT_BIT = 0x40000000;
/** Bits 18 … 29 of the KEY_HI_FLAGS word: always zero in a sound file. */
export const KEY_HI_RESERVED_MASK = 0x3ffc0000;
/** 2^32, to split a key (< 2^50, an exact float64) into its two words without BigInt. */
export const TWO_POW_32 = 4294967296;

/**
 * Highest load factor, as the fraction 7/10: capacity = ceil(entries × 10 / 7). Linear probing
 * stays short at 0.7 (≈ 2.2 slots per hit, ≈ 6 per miss on average) while bytes per entry stay
 * ≈ 16 / 0.7 ≈ 22.9. Integers, so capacity never depends on float rounding of entries / 0.7.
 */
export const LOAD_NUMERATOR = 7;
/** See {@link LOAD_NUMERATOR}. */
export const LOAD_DENOMINATOR = 10;

/**
 * Most slots a table may have: SHA-256 records store slot numbers as u32. (About 3 billion
 * entries; a 24 GiB machine runs out of memory long before, so large indexes are sharded.)
 */
export const MAX_CAPACITY = 0xffffffff;

/**
 * Most elements one typed-array view may have (V8 in Node 20: 2^32). The table is viewed as one
 * Uint32Array, so a table held in memory has at most this / {@link SLOT_WORDS} slots (2^30, a
 * 16 GiB table of ≈ 750 million entries), fewer than the format allows; larger indexes are sharded.
 * Views of anything longer (the whole image, for a checksum or a copy) are made a chunk at a time.
 */
export const MAX_VIEW_ELEMENTS = 2 ** 32;

/**
 * A record of the SHA-256 section: one u64 (two u32 words, little-endian) =
 * (first 4 digest bytes read big-endian) × 2^32 + slot. Sorted ascending as u64, the records
 * are ordered by digest prefix, so a lookup binary-searches the prefix word and reads the key
 * from the slot; every candidate is then verified by hashing its key again (all 32 bytes). A
 * 4-byte prefix leaves ≈ entries / 2^32 false candidates per lookup (≈ 0.05 at 200M entries),
 * each costing one SHA-256, for half the bytes of an 8-byte prefix plus a stored key.
 */
export const SHA256_RECORD_BYTES = 8;
/** {@link SHA256_RECORD_BYTES} in u32 words. */
export const SHA256_RECORD_WORDS = 2;
/** Word offsets inside a SHA-256 record (little-endian u64: low word first). */
export const SHA256_RECORD = {
  /** The slot of the entry in the table. */
  SLOT: 0,
  /** Digest bytes 0 … 3 as a big-endian u32 (so u64 order is digest byte order). */
  PREFIX: 1,
} as const;

/**
 * The runs of the SHA-256 section, in file order: `entries` records of each convention, one after
 * the other (meta: SHA-256 of the digits; google: SHA-256 of `+E.164`).
 */
export const SHA256_CONVENTIONS = ['meta', 'google'] as const;

/** Throws (ERR_INTERNAL) unless typed arrays on this platform are little-endian, as the file is. */
export function assertLittleEndian(): void {
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) {
    throw new RollcallError(
      ErrorCodes.INTERNAL,
      'rollcall index files are little-endian; this platform is not',
    );
  }
}
