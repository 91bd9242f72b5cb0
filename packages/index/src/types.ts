import type { HashConvention, PhoneKey } from '@rollcall/phone';
import type { UserId } from './user-id.js';

// The phone package's, re-exported: one declaration of the conventions.
export type { HashConvention };

/** What a probe finds for a key present in the index. */
export interface ProbeHit {
  userId: UserId;
  optedOut: boolean;
}

/** Fields of an index file's header. */
export interface IndexHeader {
  formatVersion: number;
  entries: number;
  capacity: number;
  optedOut: number;
  /** Entries that are E.164 but not a valid range under the metadata: no upload can match them. */
  neverMatchable: number;
  /** libphonenumber-js version whose metadata judged validity at build time. */
  metadataVersion: string;
  /** Build time, ms since the epoch. */
  builtAt: number;
  /** When the index was last updated (`index update`, `index optout`), ms since the epoch (= builtAt until then). */
  updatedAt: number;
  /** The libphonenumber-js metadata set that judged validity (`max`). */
  metadataSet: string;
  /** Seed of `keyHash` for this file: sharding and the join place keys with it. */
  hashSeed: number;
  /** This file's shard number, 0-based. */
  shard: number;
  /** Shards the full index is split into (1 = not sharded). */
  shardCount: number;
  /** The file holds the SHA-256 section (`probeSha256` works). */
  hasSha256: boolean;
  /** Bytes of the whole image (header + table + SHA-256 section). */
  fileBytes: number;
  /**
   * 0 when built; one more after every `index update` (or `index optout`) that changed the index.
   * Every shard of a sharded index that an update rewrites gets the same new generation; the
   * index's generation is the highest of its shards'.
   */
  generation: number;
  /** Bytes of the hash table (capacity × 16). */
  tableBytes: number;
  /** Bytes of the SHA-256 section (0 when absent); not part of the table's bytes per entry. */
  sha256Bytes: number;
  /** xxh64 of the payload as recorded in the header, 16 hex digits. */
  payloadChecksum: string;
}

/**
 * A loaded index, in a SharedArrayBuffer every worker thread reads without copying.
 * Probes are exact: keys are compared, never only hashes.
 */
export interface IndexReader {
  readonly header: IndexHeader;
  /** The whole index image (header + table + optional sections); hand it to workers as is. */
  readonly buffer: SharedArrayBuffer;
  /** The user and opted-out flag of `key`, or undefined if the index does not hold it. */
  probe(key: PhoneKey): ProbeHit | undefined;
  /**
   * Probes `count` keys of `keys` at once (computes all slots first, then touches them, to hide
   * memory latency). Writes for each i: `found[i]` = 0 absent, 1 present, 2 present and opted out;
   * `userIds[i]` = the user id when found (else 0n). Keys equal to 0 are skipped (absent).
   */
  probeBatch(keys: Float64Array, count: number, found: Uint8Array, userIds: BigUint64Array): void;
  /** The key whose SHA-256 (in `convention`) equals `digest` (32 bytes), verified exactly; else undefined. */
  probeSha256(digest: Uint8Array, convention: HashConvention): PhoneKey | undefined;
}
