/**
 * The optional SHA-256 section: for each hashing convention, the entries' digest prefixes sorted,
 * each with the slot of its entry, so a pre-hashed upload cell finds its key by binary search.
 * Every candidate is verified by hashing its key again and comparing all 32 bytes.
 */
import { ErrorCodes, RollcallError } from '@rollcall/errors';
import { hashPhone, isPhoneKey, type PhoneKey, SHA256_BYTES } from '@rollcall/phone';
import {
  KEY_HI_MASK,
  SHA256_CONVENTIONS,
  SHA256_RECORD,
  SHA256_RECORD_BYTES,
  SHA256_RECORD_WORDS,
  SLOT,
  SLOT_WORDS,
  TWO_POW_32,
} from './layout.js';
import type { HashConvention } from './types.js';

/** Digest bytes 0 … 3 as a big-endian u32: the record's sort prefix. */
function prefixOf(digest: Uint8Array): number {
  return ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
}

/** The key held in an occupied slot. */
function keyAt(table: Uint32Array, slot: number): number {
  const w = slot * SLOT_WORDS;
  return table[w + SLOT.KEY_LO]! + (table[w + SLOT.KEY_HI_FLAGS]! & KEY_HI_MASK) * TWO_POW_32;
}

/** Byte offset of a convention's run of records inside the image. */
function runOffset(sha256Offset: number, entries: number, convention: HashConvention): number {
  return sha256Offset + SHA256_CONVENTIONS.indexOf(convention) * entries * SHA256_RECORD_BYTES;
}

/**
 * Fills the section of `image` from the finished table: one run per convention, `entries`
 * records each, sorted. Costs one SHA-256 per entry and convention.
 */
export function fillSha256Section(
  image: SharedArrayBuffer,
  table: Uint32Array,
  capacity: number,
  entries: number,
  sha256Offset: number,
): void {
  for (const convention of SHA256_CONVENTIONS) {
    const offset = runOffset(sha256Offset, entries, convention);
    const words = new Uint32Array(image, offset, entries * SHA256_RECORD_WORDS);
    let n = 0;
    for (let slot = 0; slot < capacity; slot++) {
      const key = keyAt(table, slot);
      if (key === 0) continue;
      const w = n * SHA256_RECORD_WORDS;
      words[w + SHA256_RECORD.SLOT] = slot;
      words[w + SHA256_RECORD.PREFIX] = prefixOf(hashPhone(key as PhoneKey, convention));
      n++;
    }
    if (n !== entries)
      throw new RollcallError(ErrorCodes.INTERNAL, `table holds ${n} keys, header says ${entries}`);
    // Sorting the records as u64 (prefix in the high word) orders them by prefix, then slot:
    // the typed array's native numeric sort, no comparator, no BigInt per record.
    new BigUint64Array(image, offset, entries).sort();
  }
}

/** Index of the first record of `words` (`count` records) whose prefix is ≥ `prefix`. */
function lowerBound(words: Uint32Array, count: number, prefix: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (words[mid * SHA256_RECORD_WORDS + SHA256_RECORD.PREFIX]! < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Views of one image's SHA-256 section, one per convention. */
export interface Sha256Runs {
  readonly meta: Uint32Array;
  readonly google: Uint32Array;
}

/** Wraps the section's runs of `image` without copying. */
export function sha256Runs(image: SharedArrayBuffer, sha256Offset: number, entries: number): Sha256Runs {
  const view = (c: HashConvention) =>
    new Uint32Array(image, runOffset(sha256Offset, entries, c), entries * SHA256_RECORD_WORDS);
  return { meta: view('meta'), google: view('google') };
}

/**
 * The key whose SHA-256 under `convention` is `digest`, or undefined. Candidates come from the
 * 4-byte prefix; each is confirmed by hashing its key and comparing all 32 bytes, so a prefix
 * collision can never produce a false match.
 */
export function findBySha256(
  runs: Sha256Runs,
  table: Uint32Array,
  capacity: number,
  entries: number,
  digest: Uint8Array,
  convention: HashConvention,
): PhoneKey | undefined {
  if (digest.length !== SHA256_BYTES) return undefined;
  const words = convention === 'meta' ? runs.meta : runs.google;
  const prefix = prefixOf(digest);
  for (let i = lowerBound(words, entries, prefix); i < entries; i++) {
    const w = i * SHA256_RECORD_WORDS;
    if (words[w + SHA256_RECORD.PREFIX] !== prefix) break;
    const slot = words[w + SHA256_RECORD.SLOT]!;
    // A slot beyond the table, an empty one or a non-key can only come from a corrupt file
    // opened without its checksum: skip rather than throw in a worker.
    if (slot >= capacity) continue;
    const key = keyAt(table, slot);
    if (!isPhoneKey(key)) continue;
    const candidate = hashPhone(key, convention);
    let same = true;
    for (let b = 0; b < SHA256_BYTES; b++) {
      if (candidate[b] !== digest[b]) {
        same = false;
        break;
      }
    }
    if (same) return key as PhoneKey;
  }
  return undefined;
}
