/**
 * The eligibility log of an index: which users stopped being eligible (no number left, or opted
 * out on any of their numbers) and which became eligible again, at which generation. `index
 * update` appends to it; `audience refresh` replays it, so a refresh reads a few bytes per change
 * instead of the whole index.
 *
 *   <index>.eligibility.log                      an unsharded index
 *   <prefix>.shards-of-<S>.eligibility.log       a sharded one (one log for all its shards)
 *
 *   [ header: 64 bytes ][ records: 16 bytes each ]
 *
 * Header (little-endian): magic `\x89RCELG\r\n` (8), u32 version, u32 record size, u64 build time,
 * u32 hash seed, u32 shard count (these three name the build the log belongs to), u64 the
 * generation the log starts after (0: it holds every change since the build), zeros to 64.
 * Record: u32 user id bits 0 … 31, u32 bits 32 … 63, u32 generation, u32 kind
 * ({@link LOG_KIND}).
 *
 * Consistency with the index without a second rename: the log is append-only, and every index
 * header records how many of its bytes belong to it (`LOG_BYTES`). An update appends its records
 * (and fsyncs them) before renaming the new index into place; a reader reads only up to the
 * bytes its index header names. An update cut short leaves records past that point, which no
 * reader reads and the next update cuts off before appending its own. A log whose header names
 * another build (the index was rebuilt) is replaced by a fresh one at the next update.
 *
 * The log holds user ids, as audiences do: it is written like every output (a regular file beside
 * the index) and never printed.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { fileErrorFrom, IndexCorruptError } from '@rollcall/errors';
import { AtomicFile } from '@rollcall/files';
import { SHARD_FILE } from './index-files.js';
import { MAX_VIEW_ELEMENTS } from './layout.js';
import { UserIdSet } from './user-set.js';

/** `\x89RCELG\r\n`: like the index's magic, catches 7-bit transfers and line-ending conversion. */
const LOG_MAGIC = Uint8Array.of(0x89, 0x52, 0x43, 0x45, 0x4c, 0x47, 0x0d, 0x0a);
const LOG_VERSION = 1;
/** Bytes of the log header. */
export const LOG_HEADER_BYTES = 64;
/** Bytes of one record. */
export const LOG_RECORD_BYTES = 16;
/** u32 words of one record. */
export const LOG_RECORD_WORDS = 4;

/** Byte offsets of the header fields. */
const H = {
  MAGIC: 0,
  VERSION: 8,
  RECORD_BYTES: 12,
  BUILT_AT: 16,
  HASH_SEED: 24,
  SHARD_COUNT: 28,
  FROM_GENERATION: 32,
} as const;

/** Word offsets inside a record. */
export const LOG_RECORD = { USER_LO: 0, USER_HI: 1, GENERATION: 2, KIND: 3 } as const;

/** What a record says happened to its user at its generation. */
export const LOG_KIND = {
  /** The user stopped being eligible: no number left in the index, or opted out. */
  NO_LONGER_ELIGIBLE: 1,
  /** The user became eligible again (a number added, or opted back in). */
  ELIGIBLE_AGAIN: 2,
} as const;

/** The build a log belongs to, as the index headers say. */
export interface LogBuild {
  builtAt: number;
  hashSeed: number;
  shardCount: number;
}

/** The log file of an index whose files (in shard order) are `files`. */
export function eligibilityLogPath(files: readonly string[]): string {
  const first = files[0]!;
  if (files.length > 1) {
    const m = SHARD_FILE.exec(first);
    if (m !== null) return `${m[1]}.shards-of-${files.length}.eligibility.log`;
  }
  return `${first}.eligibility.log`;
}

function headerBytes(build: LogBuild, fromGeneration: number): Uint8Array {
  const bytes = new Uint8Array(LOG_HEADER_BYTES);
  bytes.set(LOG_MAGIC, H.MAGIC);
  const v = new DataView(bytes.buffer);
  v.setUint32(H.VERSION, LOG_VERSION, true);
  v.setUint32(H.RECORD_BYTES, LOG_RECORD_BYTES, true);
  v.setBigUint64(H.BUILT_AT, BigInt(build.builtAt), true);
  v.setUint32(H.HASH_SEED, build.hashSeed >>> 0, true);
  v.setUint32(H.SHARD_COUNT, build.shardCount, true);
  v.setBigUint64(H.FROM_GENERATION, BigInt(fromGeneration), true);
  return bytes;
}

/** The header of a log, or undefined when the bytes are not one of this version (or too short). */
function readHeader(bytes: Uint8Array): (LogBuild & { fromGeneration: number }) | undefined {
  if (bytes.length < LOG_HEADER_BYTES) return undefined;
  for (let i = 0; i < LOG_MAGIC.length; i++) if (bytes[i] !== LOG_MAGIC[i]) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, LOG_HEADER_BYTES);
  if (v.getUint32(H.VERSION, true) !== LOG_VERSION) return undefined;
  if (v.getUint32(H.RECORD_BYTES, true) !== LOG_RECORD_BYTES) return undefined;
  return {
    builtAt: Number(v.getBigUint64(H.BUILT_AT, true)),
    hashSeed: v.getUint32(H.HASH_SEED, true),
    shardCount: v.getUint32(H.SHARD_COUNT, true),
    fromGeneration: Number(v.getBigUint64(H.FROM_GENERATION, true)),
  };
}

function sameBuild(a: LogBuild, b: LogBuild): boolean {
  return a.builtAt === b.builtAt && a.hashSeed === b.hashSeed && a.shardCount === b.shardCount;
}

/** Reads `length` bytes at `position`, or fewer if the file is shorter. */
function readAt(fd: number, length: number, position: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, bytes, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return bytes.subarray(0, done);
}

/**
 * Appends `records` (whole records, {@link LOG_RECORD_WORDS} words each) to the log at `path`,
 * of which the index's headers say `validBytes` belong to it, and makes them durable. Returns the
 * log's new valid length, for the new index headers. When the index has no log yet (`validBytes`
 * 0: no update so far changed any user's eligibility), a fresh log is written (by rename) that
 * holds every change since the build. When the index names a log that is gone, or the file there
 * is another build's, the fresh log holds only the changes after `fromGeneration` (the generation
 * before this update's), and says so: a refresh then does not trust it for older audiences.
 */
export function appendEligibilityLog(
  path: string,
  build: LogBuild,
  validBytes: number,
  fromGeneration: number,
  records: Uint32Array,
): number {
  const body = new Uint8Array(records.buffer, records.byteOffset, records.byteLength);
  if (validBytes >= LOG_HEADER_BYTES) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw fileErrorFrom(path, err, 'open the eligibility log');
    }
    if (fd !== undefined) {
      try {
        const head = readHeader(readAt(fd, LOG_HEADER_BYTES, 0));
        if (head !== undefined && sameBuild(head, build) && fstatSync(fd).size >= validBytes) {
          // Records past validBytes are an update's that never reached the index: cut them off.
          ftruncateSync(fd, validBytes);
          let off = 0;
          while (off < body.length) off += writeSync(fd, body, off, body.length - off, validBytes + off);
          fsyncSync(fd);
          return validBytes + body.length;
        }
      } catch (err) {
        throw fileErrorFrom(path, err, 'append to the eligibility log');
      } finally {
        closeSync(fd);
      }
    }
  }
  // A fresh log. If the index said it had one, that log is gone or another build's: the new one
  // starts at this update (a refresh then knows it does not cover earlier generations).
  const start = validBytes >= LOG_HEADER_BYTES ? fromGeneration : 0;
  const out = new AtomicFile(path);
  try {
    out.write(headerBytes(build, start));
    out.write(body);
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
  return LOG_HEADER_BYTES + body.length;
}

/** What {@link readEligibilityLog} found. */
export interface EligibilityLog {
  path: string;
  /** The log holds every change after this generation (0: since the build). */
  fromGeneration: number;
  /** The records, {@link LOG_RECORD_WORDS} words each. */
  records: Uint32Array;
}

/**
 * Reads the first `validBytes` of the log at `path` (what the index's headers say belong to it).
 * Returns undefined when there is no usable log: none (`validBytes` 0 or no file), or one of
 * another build, or shorter than the index says (replaced meanwhile by a rebuild's). Throws
 * `IndexCorruptError` for a log that is this build's but malformed.
 */
export function readEligibilityLog(
  path: string,
  build: LogBuild,
  validBytes: number,
): EligibilityLog | undefined {
  if (validBytes < LOG_HEADER_BYTES) return undefined;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fileErrorFrom(path, err, 'read the eligibility log');
  }
  try {
    const head = readHeader(readAt(fd, LOG_HEADER_BYTES, 0));
    if (head === undefined || !sameBuild(head, build)) return undefined;
    if ((validBytes - LOG_HEADER_BYTES) % LOG_RECORD_BYTES !== 0) {
      throw new IndexCorruptError(
        path,
        'the index names a length of its eligibility log that is not whole records',
      );
    }
    const n = (validBytes - LOG_HEADER_BYTES) / LOG_RECORD_BYTES;
    if (n * LOG_RECORD_WORDS > MAX_VIEW_ELEMENTS) {
      throw new IndexCorruptError(path, 'the eligibility log is too long to read');
    }
    const records = new Uint32Array(n * LOG_RECORD_WORDS);
    const bytes = new Uint8Array(records.buffer);
    const CHUNK = 64 << 20;
    for (let at = 0; at < bytes.length; at += CHUNK) {
      const want = Math.min(CHUNK, bytes.length - at);
      const got = readAt(fd, want, LOG_HEADER_BYTES + at);
      if (got.length < want) return undefined; // Shorter than the index says: not its log.
      bytes.set(got, at);
    }
    for (let i = 0; i < n; i++) {
      const kind = records[i * LOG_RECORD_WORDS + LOG_RECORD.KIND]!;
      if (kind !== LOG_KIND.NO_LONGER_ELIGIBLE && kind !== LOG_KIND.ELIGIBLE_AGAIN) {
        throw new IndexCorruptError(path, `eligibility log record ${i + 1} is of no known kind`);
      }
    }
    return { path, fromGeneration: head.fromGeneration, records };
  } finally {
    closeSync(fd);
  }
}

/**
 * The users the log leaves not eligible: those whose last record says they stopped being
 * eligible. (A user's records alternate; the last one is their state now.)
 */
export function ineligibleUsers(log: EligibilityLog): UserIdSet {
  const r = log.records;
  const n = r.length / LOG_RECORD_WORDS;
  const seen = new UserIdSet(Math.min(n, 1 << 20));
  const out = new UserIdSet(Math.min(n, 1 << 20));
  // Newest first: the first record met for a user is their last.
  for (let i = n - 1; i >= 0; i--) {
    const w = i * LOG_RECORD_WORDS;
    const lo = r[w + LOG_RECORD.USER_LO]!;
    const hi = r[w + LOG_RECORD.USER_HI]!;
    if (seen.add(lo, hi) && r[w + LOG_RECORD.KIND] === LOG_KIND.NO_LONGER_ELIGIBLE) out.add(lo, hi);
  }
  return out;
}
