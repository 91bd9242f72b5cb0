/**
 * The image of one index file, filled in memory: the table of a SharedArrayBuffer sized once from
 * an upper bound on the entries, rows placed one at a time or a batch at a time, then the
 * opt-outs settled, the SHA-256 section, the header and its checksums. Also what a build reports
 * of the image, and how an image is cut to its file's length or written out.
 */
import { performance } from 'node:perf_hooks';
import { InputError, InvalidArgumentError } from '@rollcall/errors';
import { AtomicFile, commitAll } from '@rollcall/files';
import { type PhoneKey, phoneMetadataInfo } from '@rollcall/phone';
import { checksumRange } from '../checksum.js';
import { decodeHeader, imageGeometry, type RawHeader, sealHeader, writeHeaderFields } from '../header.js';
import { keyHashOfHalves, slotOf } from '../key-hash.js';
import {
  assertLittleEndian,
  HEADER_BYTES,
  MAX_CAPACITY,
  MAX_VIEW_ELEMENTS,
  SLOT_WORDS,
  TABLE_OFFSET,
  TWO_POW_32,
} from '../layout.js';
import { withIndexLock } from '../lock.js';
import { fillSha256Section } from '../sha256-section.js';
import { capacityFor, findSlotFrom, writeSlot } from '../table.js';
import { settleUserFlags } from '../user-optouts.js';
import { UserIdSet } from '../user-set.js';
import { ValidityCounter } from '../validity.js';
import { type ResolvedOptions, validityThreads } from './options.js';
import { RowBatch } from './source-reader.js';
import type { SourceRowProblem } from './source-rules.js';

/** What a build did. Sizes in bytes, durations in ms. */
export interface BuildReport {
  /** The CSV read, or `<rows>`. */
  source: string;
  /** The index file written (only by `writeIndexFile`). */
  output?: string;
  /** Data rows read (header and blank lines not counted). */
  rows: number;
  /** Entries in the index. */
  entries: number;
  /** Rows skipped, by problem (all zero unless `skipInvalid`). */
  skipped: Record<SourceRowProblem, number>;
  /** Sum of `skipped`. */
  skippedRows: number;
  /** Entries that are E.164 but not a valid range under the metadata: kept, but no upload can match them. */
  neverMatchable: number;
  /**
   * Entries (numbers) opted out: every number of every user opted out on any of their numbers,
   * not only the numbers whose rows said so (an opt-out is the person's). The header's count.
   */
  optedOut: number;
  /** Users opted out: users with at least one row of this build's source marked opted out. */
  optedOutUsers: number;
  /** Slots of the table. */
  capacity: number;
  /** entries / capacity. */
  loadFactor: number;
  /** Bytes of the hash table. */
  tableBytes: number;
  /** Table bytes per entry (the 24-byte budget; 0 for an empty index). */
  bytesPerEntry: number;
  /** Bytes of the SHA-256 section, apart from the budget (0 without `withSha256`). */
  sha256Bytes: number;
  /** Bytes of the whole file: header, table and SHA-256 section. */
  fileBytes: number;
  hashSeed: number;
  shard: number;
  shardCount: number;
  /** libphonenumber-js version whose metadata judged validity. */
  metadataVersion: string;
  /** Worker threads that judged validity (the never-matchable count); 0: the calling thread. */
  validityThreads: number;
  durationMs: number;
}

/** Bytes per write call when saving an image (views of the shared buffer, never a >4 GiB Buffer). */
const WRITE_CHUNK_BYTES = 64 << 20;

/**
 * Fills the table of one image. Memory is the final image, allocated once: the table is sized
 * from an upper bound on the entries and never grows or rehashes.
 */
export class ImageBuilder {
  readonly capacity: number;
  readonly image: SharedArrayBuffer;
  readonly table: Uint32Array;
  entries = 0;
  /** See {@link BuildReport.optedOut}: set by {@link finish}. */
  optedOut = 0;
  /** Users of the entries placed with their opted-out flag set. */
  readonly optedOutUsers = new UserIdSet();
  /** See {@link BuildReport.validityThreads}. */
  readonly validityThreads: number;
  readonly #maxEntries: number;
  readonly #opts: ResolvedOptions;
  readonly #source: string;
  readonly #seed: number;
  /** Judges each new entry's validity off this thread (the never-matchable count). */
  readonly #validity: ValidityCounter;

  constructor(maxEntries: number, opts: ResolvedOptions, source: string) {
    assertLittleEndian();
    this.#maxEntries = maxEntries;
    this.#opts = opts;
    this.#source = source;
    this.#seed = opts.hashSeed;
    this.capacity = capacityFor(maxEntries);
    if (this.capacity > MAX_CAPACITY || this.capacity * SLOT_WORDS > MAX_VIEW_ELEMENTS) {
      throw new InvalidArgumentError(
        'source',
        `${maxEntries} rows are too many for one index file: shard it`,
      );
    }
    // Room for the SHA-256 records of every possible entry too, so the section is filled in
    // place later; a SharedArrayBuffer starts zeroed, which is every slot empty (key 0).
    const { fileBytes } = imageGeometry(this.capacity, maxEntries, opts.withSha256);
    this.image = new SharedArrayBuffer(fileBytes);
    this.table = new Uint32Array(this.image, TABLE_OFFSET, this.capacity * SLOT_WORDS);
    // Last: it may start threads, which nothing above can then leak by throwing.
    this.validityThreads = validityThreads(opts, maxEntries);
    this.#validity = new ValidityCounter({ threads: this.validityThreads });
  }

  /** The home slot of a key. */
  home(key: number): number {
    // `>>> 0` is key mod 2^32, exact below 2^53; the difference is an exact multiple of 2^32.
    const lo = key >>> 0;
    return slotOf(keyHashOfHalves(lo, (key - lo) / TWO_POW_32, this.#seed), this.capacity);
  }

  /** Adds an entry; returns -1, or the slot already holding the key (nothing is changed then). */
  add(key: PhoneKey, userLo: number, userHi: number, optedOut: boolean): number {
    return this.addAt(this.home(key), key, userLo, userHi, optedOut);
  }

  /** {@link add} of a key whose home slot `home` is known. */
  addAt(home: number, key: PhoneKey, userLo: number, userHi: number, optedOut: boolean): number {
    const lo = key >>> 0;
    const hi = (key - lo) / TWO_POW_32;
    const found = findSlotFrom(this.table, this.capacity, home, lo, hi);
    if (found >= 0) return found;
    if (this.entries >= this.#maxEntries) {
      // Only if the file grew between the counting pass and this one.
      throw new InputError({ file: this.#source }, 'the file changed while the index was being built');
    }
    writeSlot(this.table, -1 - found, lo, hi, userLo, userHi, optedOut);
    this.entries++;
    // Only placed rows count: a duplicate skipped by --skip-invalid opts no one out.
    if (optedOut) this.optedOutUsers.add(userLo, userHi);
    this.#validity.add(key);
    return -1;
  }

  /** Stops the validity threads (after an error; `finish` waits for them instead). */
  close(): Promise<void> {
    return this.#validity.close();
  }

  /**
   * Marks every entry of every user in `optedOutUsers` opted out: by default the users of this
   * build's opted-out rows; a sharded build gives its users opted out in any shard, which must
   * include those (the entries of this build's rows' users would otherwise not be marked). Adds
   * the SHA-256 section, writes the header and both checksums. Returns the image (possibly longer
   * than the file when rows were skipped: only its first `raw.fileBytes` count).
   */
  async finish(
    optedOutUsers: UserIdSet = this.optedOutUsers,
  ): Promise<{ image: SharedArrayBuffer; raw: RawHeader }> {
    const o = this.#opts;
    // One pass over the table, after every row is in: a user's numbers may be on any rows. One
    // set, never this build's and the shards' both: every entry not opted out (most) would be
    // looked up twice, the second time for nothing.
    this.optedOut =
      optedOutUsers.size > 0 ? settleUserFlags(this.table, this.capacity, [optedOutUsers]).optedOut : 0;
    const g = imageGeometry(this.capacity, this.entries, o.withSha256);
    if (o.withSha256) fillSha256Section(this.image, this.table, this.capacity, this.entries, g.sha256Offset);
    const neverMatchable = await this.#validity.total();
    await this.#validity.close();
    const header = new Uint8Array(this.image, 0, HEADER_BYTES);
    const info = phoneMetadataInfo();
    writeHeaderFields(header, {
      entries: this.entries,
      capacity: this.capacity,
      optedOut: this.optedOut,
      neverMatchable,
      metadataVersion: info.version,
      metadataSet: info.metadata,
      builtAt: o.builtAt,
      updatedAt: o.builtAt,
      hashSeed: o.hashSeed,
      shard: o.shard,
      shardCount: o.shardCount,
      hasSha256: o.withSha256,
    });
    await sealHeader(header, await checksumRange(this.image, HEADER_BYTES, g.fileBytes));
    return { image: this.image, raw: decodeHeader(header, this.#source) };
  }
}

/** The report of a build that read `rows` rows into the image whose header is `raw`. */
export function makeReport(
  source: string,
  rows: number,
  skipped: Record<SourceRowProblem, number>,
  raw: RawHeader,
  optedOutUsers: number,
  validityThreads: number,
  started: number,
): BuildReport {
  return {
    source,
    rows,
    entries: raw.entries,
    skipped,
    skippedRows: Object.values(skipped).reduce((a, b) => a + b, 0),
    neverMatchable: raw.neverMatchable,
    optedOut: raw.optedOut,
    optedOutUsers,
    capacity: raw.capacity,
    loadFactor: raw.entries / raw.capacity,
    tableBytes: raw.tableBytes,
    bytesPerEntry: raw.entries === 0 ? 0 : raw.tableBytes / raw.entries,
    sha256Bytes: raw.sha256Bytes,
    fileBytes: raw.fileBytes,
    hashSeed: raw.hashSeed,
    shard: raw.shard,
    shardCount: raw.shardCount,
    metadataVersion: raw.metadataVersion,
    validityThreads,
    durationMs: performance.now() - started,
  };
}

/** The image cut to exactly its file bytes (a copy only when rows were skipped with the SHA-256 section on). */
export function exactImage(image: SharedArrayBuffer, fileBytes: number): SharedArrayBuffer {
  if (image.byteLength === fileBytes) return image;
  const exact = new SharedArrayBuffer(fileBytes);
  // In chunks: a typed array holds at most 2^32 elements, less than a large image.
  for (let at = 0; at < fileBytes; at += WRITE_CHUNK_BYTES) {
    const n = Math.min(WRITE_CHUNK_BYTES, fileBytes - at);
    new Uint8Array(exact, at, n).set(new Uint8Array(image, at, n));
  }
  return exact;
}

/**
 * Rows read but not yet placed. Rows are placed a batch at a time, in order: first every home
 * slot of the batch is computed and touched, then the rows are placed. The touch pass is a loop
 * of independent loads, so the CPU keeps many cache misses of the (large, randomly addressed)
 * table in flight at once instead of waiting for each row's in turn.
 */
export class PendingRows extends RowBatch {
  readonly homes = new Float64Array(PLACE_BATCH);
  /** Rows of the batch placed so far. */
  placed = 0;

  constructor() {
    super(PLACE_BATCH);
  }

  /**
   * Places the rows not yet placed. Returns -1 when all are, else the index of a row whose
   * phone is already in the table (placing resumes after it at the next call).
   */
  place(builder: ImageBuilder): number {
    const n = this.count;
    if (this.placed === 0) {
      let touched = 0;
      for (let i = 0; i < n; i++) {
        const home = builder.home(this.keys[i]!);
        this.homes[i] = home;
        touched ^= builder.table[home * SLOT_WORDS]!;
      }
      // Stored where the optimiser cannot prove it unused, so the loads above stay.
      touchSink.value = touched;
    }
    while (this.placed < n) {
      const i = this.placed++;
      const found = builder.addAt(
        this.homes[i]!,
        this.keys[i]! as PhoneKey,
        this.userLo[i]!,
        this.userHi[i]!,
        this.optedOut[i] === 1,
      );
      if (found >= 0) return i;
    }
    this.count = 0;
    this.placed = 0;
    return -1;
  }
}

/** Rows per batch of {@link PendingRows}: 256 slots' cache lines (16 KiB) stay in L1 between passes. */
const PLACE_BATCH = 256;
const touchSink = { value: 0 };

/** Writes the first `bytes` of an image to an atomic file, in chunks. */
export function writeImage(out: AtomicFile, image: SharedArrayBuffer, bytes: number): void {
  for (let off = 0; off < bytes; off += WRITE_CHUNK_BYTES) {
    out.write(new Uint8Array(image, off, Math.min(WRITE_CHUNK_BYTES, bytes - off)));
  }
}

/** An image built in memory: its header, its report, and the users of its own opted-out rows. */
export interface BuiltImage {
  image: SharedArrayBuffer;
  raw: RawHeader;
  report: BuildReport;
  /** Users of the opted-out rows placed (a sharded build gathers them across shards). */
  optedOutUsers: UserIdSet;
}

/**
 * Writes the image that `build` makes to `outPath` via a temp file beside it, renamed on success:
 * on any error (bad row, I/O, abort) nothing is left behind and an existing `outPath` is
 * untouched. The output is opened first, so a path that cannot be written fails before a long
 * build. With `lockOutput`, the rename holds the output's update lock (lock.ts): it waits for an
 * `index optout` running on the same file, which would otherwise rename the old index (plus its
 * changes) over the new one when it ends. Returns the report (naming the output) and the users
 * of the image's own opted-out rows; the image itself is let go.
 */
export async function writeImageFile(
  outPath: string,
  signal: AbortSignal | undefined,
  lockOutput: boolean,
  build: () => Promise<BuiltImage>,
): Promise<{ report: BuildReport; optedOutUsers: UserIdSet }> {
  const started = performance.now();
  const out = new AtomicFile(outPath);
  try {
    const { image, raw, report, optedOutUsers } = await build();
    writeImage(out, image, raw.fileBytes);
    // Renamed only if no stop was asked for, even one that came while the image was being written.
    const commit = () => commitAll([out], { signal });
    await (lockOutput ? withIndexLock(outPath, commit, { signal }) : commit());
    return {
      report: { ...report, output: outPath, durationMs: performance.now() - started },
      optedOutUsers,
    };
  } catch (err) {
    out.abort();
    throw err;
  }
}
