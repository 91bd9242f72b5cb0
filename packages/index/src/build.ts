/**
 * Building an index image from a `phone,user_id,opted_out` CSV (streamed) or from rows, straight
 * into the table of a SharedArrayBuffer sized once from an upper bound on the entries.
 *
 * The reading thread does only what must be done in order: plain rows are read from the file's
 * bytes (source-row.ts, everything else through csv.ts), placed a batch at a time, and each new
 * key is handed to the validity count (validity.ts), which worker threads judge meanwhile.
 */
import { performance } from 'node:perf_hooks';
import {
  ErrorCodes,
  InputError,
  type InputPosition,
  InvalidArgumentError,
  RollcallError,
} from '@rollcall/errors';
import { AtomicFile, commitAll } from '@rollcall/files';
import { keyToE164, type PhoneKey, parseE164Strict, phoneMetadataInfo, redactPhone } from '@rollcall/phone';
import { checksumRange } from './checksum.js';
import {
  CsvChunks,
  checkHeader,
  countLines,
  csvRecords,
  INCOMPLETE,
  type ParsedRecord,
  parseOptedOut,
  parseRecord,
} from './csv.js';
import { decodeHeader, imageGeometry, type RawHeader, sealHeader, writeHeaderFields } from './header.js';
import { keyHashOfHalves, slotOf } from './key-hash.js';
import {
  assertLittleEndian,
  HEADER_BYTES,
  MAX_CAPACITY,
  MAX_VIEW_ELEMENTS,
  SLOT_WORDS,
  TABLE_OFFSET,
  TWO_POW_32,
} from './layout.js';
import { withIndexLock } from './lock.js';
import { readerOfImage } from './reader.js';
import { fillSha256Section } from './sha256-section.js';
import { PLAIN_ROW_MAX_BYTES, PlainRow, readPlainRow } from './source-row.js';
import { capacityFor, findSlotFrom, writeSlot } from './table.js';
import type { IndexReader } from './types.js';
import { readUserIdHalves } from './user-id.js';
import { settleUserFlags } from './user-optouts.js';
import { UserIdSet } from './user-set.js';
import { defaultValidityThreads, ValidityCounter } from './validity.js';

/** Columns of the source CSV, in order. */
export const SOURCE_COLUMNS = ['phone', 'user_id', 'opted_out'] as const;

/**
 * Why a source row was refused. Stable codes: `--skip-invalid` reports count by them.
 * - `BAD_PHONE`: not strict E.164 (`+`, a known country calling code, at most 15 digits, nothing else).
 * - `BAD_USER_ID`: not a decimal integer in [1, 2^64 − 1].
 * - `BAD_OPTED_OUT`: not true/false, 1/0 or yes/no.
 * - `DUPLICATE_PHONE`: the phone is on an earlier row too (the first row is kept when skipping).
 * - `WRONG_COLUMN_COUNT`: not exactly three cells.
 */
export const SOURCE_ROW_PROBLEMS = [
  'BAD_PHONE',
  'BAD_USER_ID',
  'BAD_OPTED_OUT',
  'DUPLICATE_PHONE',
  'WRONG_COLUMN_COUNT',
] as const;

/** One of {@link SOURCE_ROW_PROBLEMS}. */
export type SourceRowProblem = (typeof SOURCE_ROW_PROBLEMS)[number];

/** Seed of {@link keyHash} unless a build is told otherwise. */
export const DEFAULT_HASH_SEED = 0;

/** The `file` of positions in errors about rows given to {@link buildIndexFromRows}; lines are row numbers. */
export const ROWS_SOURCE = '<rows>';

/** A source row whose phone is already on an earlier row: names both lines. */
export class DuplicatePhoneError extends InputError {
  /** Line (or row number) of the first occurrence. */
  readonly firstLine: number;

  constructor(position: InputPosition, firstLine: number, phone: string) {
    super(position, `duplicate phone ${redactPhone(phone)}: already on line ${firstLine}`);
    this.firstLine = firstLine;
  }
}

/** Progress of a build. */
export interface BuildProgress {
  /** Data rows read so far. */
  rows: number;
  bytesRead?: number;
  totalBytes?: number;
}

/** Options of a build. */
export interface BuildOptions {
  /** Count and skip bad rows (reported by kind) instead of failing the build. Default false. */
  skipInvalid?: boolean;
  /** Add the SHA-256 section so pre-hashed uploads (meta and google conventions) can match. Default false. */
  withSha256?: boolean;
  /** Seed of the key hash, an unsigned 32-bit integer. Default {@link DEFAULT_HASH_SEED}. */
  hashSeed?: number;
  /**
   * This file's shard number (0-based) and the shard count, recorded in the header. The build
   * does not route rows: the caller gives each shard its own rows. Default 0 of 1.
   */
  shard?: number;
  /** See {@link BuildOptions.shard}. */
  shardCount?: number;
  /** Build time recorded in the header, ms since the epoch. Default now; fixed for reproducible files. */
  builtAt?: number;
  /**
   * Worker threads that judge the validity of entries (the never-matchable count) while the
   * build reads on; 0 judges them on the calling thread. Default: one per core but one, and none
   * for a source of fewer than {@link MIN_ROWS_FOR_VALIDITY_THREADS} rows (starting threads would
   * cost more than they save). The count is the same whatever the threads.
   */
  threads?: number;
  /** Called now and then with progress. */
  onProgress?: (progress: BuildProgress) => void;
  /** Aborts the build (`ERR_ABORTED`); nothing is written. */
  signal?: AbortSignal;
}

/** Below this many rows a build judges validity on its own thread unless told otherwise. */
export const MIN_ROWS_FOR_VALIDITY_THREADS = 1_000_000;
/** Most validity threads a build may be given. */
const MAX_THREADS = 256;

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

interface ResolvedOptions {
  skipInvalid: boolean;
  withSha256: boolean;
  hashSeed: number;
  shard: number;
  shardCount: number;
  builtAt: number;
  threads: number | undefined;
  onProgress: ((progress: BuildProgress) => void) | undefined;
  signal: AbortSignal | undefined;
}

const U32_MAX = 0xffffffff;
/** Rows between checks of the abort signal and progress calls. */
const CHECK_EVERY_ROWS = 1 << 16;
/** Bytes per write call when saving an image (views of the shared buffer, never a >4 GiB Buffer). */
const WRITE_CHUNK_BYTES = 64 << 20;

function resolveOptions(options: BuildOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object');
  }
  const bool = (name: 'skipInvalid' | 'withSha256') => {
    const v = options[name];
    if (v !== undefined && typeof v !== 'boolean') throw new InvalidArgumentError(name, 'must be a boolean');
    return v ?? false;
  };
  const int = (
    name: 'hashSeed' | 'shard' | 'shardCount' | 'builtAt' | 'threads',
    min: number,
    max: number,
    dflt: number,
  ) => {
    const v = options[name];
    if (v === undefined) return dflt;
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(name, `must be an integer from ${min} to ${max}, got ${String(v)}`);
    }
    return v;
  };
  const shardCount = int('shardCount', 1, U32_MAX, 1);
  const shard = int('shard', 0, shardCount - 1, 0);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new InvalidArgumentError('onProgress', 'must be a function');
  }
  return {
    skipInvalid: bool('skipInvalid'),
    withSha256: bool('withSha256'),
    hashSeed: int('hashSeed', 0, U32_MAX, DEFAULT_HASH_SEED),
    shard,
    shardCount,
    builtAt: int('builtAt', 0, Number.MAX_SAFE_INTEGER, Date.now()),
    threads: options.threads === undefined ? undefined : int('threads', 0, MAX_THREADS, 0),
    onProgress: options.onProgress,
    signal: options.signal,
  };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RollcallError(ErrorCodes.ABORTED, 'index build aborted');
}

/** Counts by problem, all zero. */
function noProblems(): Record<SourceRowProblem, number> {
  return { BAD_PHONE: 0, BAD_USER_ID: 0, BAD_OPTED_OUT: 0, DUPLICATE_PHONE: 0, WRONG_COLUMN_COUNT: 0 };
}

/** A refused row: what is wrong and where. */
class RowProblem {
  constructor(
    readonly problem: SourceRowProblem,
    readonly column: number | undefined,
    readonly message: string,
  ) {}
}

/** The validity threads of a build of at most `maxEntries` entries (see {@link BuildOptions.threads}). */
function validityThreads(o: ResolvedOptions, maxEntries: number): number {
  if (o.threads !== undefined) return o.threads;
  return maxEntries < MIN_ROWS_FOR_VALIDITY_THREADS ? 0 : defaultValidityThreads();
}

/**
 * Fills the table of one image. Memory is the final image, allocated once: the table is sized
 * from an upper bound on the entries and never grows or rehashes.
 */
class ImageBuilder {
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
   * Marks every entry of every opted-out user opted out (the users of this build's opted-out rows,
   * and `alsoOptedOut`: a sharded build's users opted out in any shard), adds the SHA-256 section,
   * writes the header and both checksums. Returns the image (possibly longer than the file when
   * rows were skipped: only its first `raw.fileBytes` count).
   */
  async finish(alsoOptedOut?: UserIdSet): Promise<{ image: SharedArrayBuffer; raw: RawHeader }> {
    const o = this.#opts;
    // One pass over the table, after every row is in: a user's numbers may be on any rows.
    const outSets = alsoOptedOut === undefined ? [this.optedOutUsers] : [this.optedOutUsers, alsoOptedOut];
    this.optedOut = outSets.some((set) => set.size > 0)
      ? settleUserFlags(this.table, this.capacity, outSets).optedOut
      : 0;
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

function makeReport(
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
function exactImage(image: SharedArrayBuffer, fileBytes: number): SharedArrayBuffer {
  if (image.byteLength === fileBytes) return image;
  const exact = new SharedArrayBuffer(fileBytes);
  // In chunks: a typed array holds at most 2^32 elements, less than a large image.
  for (let at = 0; at < fileBytes; at += WRITE_CHUNK_BYTES) {
    const n = Math.min(WRITE_CHUNK_BYTES, fileBytes - at);
    new Uint8Array(exact, at, n).set(new Uint8Array(image, at, n));
  }
  return exact;
}

/** Checks the cells of a source row; the user id's halves go to `halves`. */
function checkSourceCells(cells: readonly string[], halves: Uint32Array): PhoneKey | RowProblem {
  if (cells.length !== SOURCE_COLUMNS.length) {
    return new RowProblem(
      'WRONG_COLUMN_COUNT',
      Math.min(cells.length, SOURCE_COLUMNS.length) + 1,
      `expected ${SOURCE_COLUMNS.length} cells (${SOURCE_COLUMNS.join(',')}), got ${cells.length}`,
    );
  }
  const phone = cells[0]!;
  const key = parseE164Strict(phone);
  if (key === undefined) {
    return new RowProblem(
      'BAD_PHONE',
      1,
      `phone "${redactPhone(phone)}" is not E.164 (+, a known country calling code, at most 15 digits)`,
    );
  }
  if (!readUserIdHalves(cells[1]!, halves)) {
    return new RowProblem('BAD_USER_ID', 2, `user_id "${cells[1]}" is not an integer from 1 to 2^64 − 1`);
  }
  return key;
}

/** The first data line whose phone is `key` (error path of a duplicate: reads the file again). */
async function firstLineOf(csvPath: string, key: PhoneKey, before: number): Promise<number> {
  let header = true;
  for await (const rec of csvRecords(csvPath)) {
    if (header) {
      header = false;
      continue;
    }
    if (rec.line >= before) break;
    if (rec.cells.length > 0 && parseE164Strict(rec.cells[0]!) === key) return rec.line;
  }
  return before;
}

/** What {@link buildImageFromCsv} built. */
interface BuiltImage {
  image: SharedArrayBuffer;
  raw: RawHeader;
  report: BuildReport;
  /** Users of the opted-out rows placed (a sharded build gathers them across shards). */
  optedOutUsers: UserIdSet;
}

/**
 * Builds the image of a source CSV; the caller saves or wraps it. Entries of users in
 * `alsoOptedOut` are marked opted out too (see {@link ImageBuilder.finish}).
 */
async function buildImageFromCsv(
  csvPath: string,
  options: BuildOptions | undefined,
  alsoOptedOut?: UserIdSet,
): Promise<BuiltImage> {
  const started = performance.now();
  const o = resolveOptions(options);
  if (typeof csvPath !== 'string' || csvPath === '')
    throw new InvalidArgumentError('csvPath', 'must be a file path');
  // Pass 1 sizes the table: every line but the header may be an entry (an upper bound).
  const lines = await countLines(csvPath);
  const chunks = await CsvChunks.open(csvPath);
  let builder: ImageBuilder | undefined;
  try {
    builder = new ImageBuilder(Math.max(0, lines - 1), o, csvPath);
    const { rows, skipped } = await readSourceRows(csvPath, chunks, builder, o);
    throwIfAborted(o.signal);
    const { image, raw } = await builder.finish(alsoOptedOut);
    o.onProgress?.({ rows, bytesRead: chunks.totalBytes, totalBytes: chunks.totalBytes });
    const users = builder.optedOutUsers;
    return {
      image,
      raw,
      report: makeReport(csvPath, rows, skipped, raw, users.size, builder.validityThreads, started),
      optedOutUsers: users,
    };
  } finally {
    await chunks.close();
    await builder?.close();
  }
}

/**
 * Plain rows read but not yet placed. Rows are placed a batch at a time, in order: first every
 * home slot of the batch is computed and touched, then the rows are placed. The touch pass is a
 * loop of independent loads, so the CPU keeps many cache misses of the (large, randomly
 * addressed) table in flight at once instead of waiting for each row's in turn.
 */
class PendingRows {
  readonly keys = new Float64Array(PLACE_BATCH);
  readonly homes = new Float64Array(PLACE_BATCH);
  readonly userLo = new Uint32Array(PLACE_BATCH);
  readonly userHi = new Uint32Array(PLACE_BATCH);
  readonly optedOut = new Uint8Array(PLACE_BATCH);
  /** Source line of each row (for a duplicate's error). */
  readonly lines = new Float64Array(PLACE_BATCH);
  count = 0;
  /** Rows of the batch placed so far. */
  placed = 0;

  push(row: PlainRow, line: number): void {
    const i = this.count++;
    this.keys[i] = row.key;
    this.userLo[i] = row.userLo;
    this.userHi[i] = row.userHi;
    this.optedOut[i] = row.optedOut ? 1 : 0;
    this.lines[i] = line;
  }

  get full(): boolean {
    return this.count === PLACE_BATCH;
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

/**
 * Pass 2: streams the rows of `chunks` straight into the table. Plain rows take the byte-level
 * fast path (source-row.ts); every other record (the header, quoted cells, blank lines, bad rows)
 * goes through the general CSV parser and the string checks, which word the errors.
 */
async function readSourceRows(
  csvPath: string,
  chunks: CsvChunks,
  builder: ImageBuilder,
  o: ResolvedOptions,
): Promise<{ rows: number; skipped: Record<SourceRowProblem, number> }> {
  const skipped = noProblems();
  const halves = new Uint32Array(2);
  const plain = new PlainRow();
  const rec: ParsedRecord = { cells: [], breaks: 0 };
  let rows = 0;
  let line = 1;
  let sawHeader = false;
  const tick = () => {
    if (++rows % CHECK_EVERY_ROWS === 0) {
      throwIfAborted(o.signal);
      o.onProgress?.({ rows, bytesRead: chunks.bytesRead, totalBytes: chunks.totalBytes });
    }
  };
  /** A row whose phone is already in the table: skipped, or the build fails naming both lines. */
  const duplicate = async (key: PhoneKey, at: number, phone: string) => {
    if (!o.skipInvalid) {
      throw new DuplicatePhoneError(
        { file: csvPath, line: at, column: 1 },
        await firstLineOf(csvPath, key, at),
        phone,
      );
    }
    skipped.DUPLICATE_PHONE++;
  };
  const pending = new PendingRows();
  /** Places the pending plain rows, in order, before any later row is looked at. */
  const placePending = async () => {
    for (let dup = pending.place(builder); dup >= 0; dup = pending.place(builder)) {
      const key = pending.keys[dup]! as PhoneKey;
      await duplicate(key, pending.lines[dup]!, keyToE164(key));
    }
  };
  let p = 0;
  while (await chunks.next(p)) {
    const { buf, end, eof } = chunks;
    p = chunks.start;
    // Plain rows are read only where a whole one fits in what was read (see PLAIN_ROW_MAX_BYTES).
    const plainEnd = end - PLAIN_ROW_MAX_BYTES;
    while (p < end) {
      if (p <= plainEnd && sawHeader) {
        const next = readPlainRow(buf, p, plain);
        if (next >= 0) {
          tick();
          pending.push(plain, line);
          if (pending.full) await placePending();
          p = next;
          line++;
          continue;
        }
      }
      // Earlier rows first: a duplicate among them is reported before anything wrong with this one.
      if (pending.count > 0) await placePending();
      const next = parseRecord(buf, p, end, eof, csvPath, line, rec);
      if (next === INCOMPLETE) break;
      p = next;
      const at = line;
      line += rec.breaks;
      const cells = rec.cells;
      if (!sawHeader) {
        checkHeader(csvPath, { line: at, cells }, SOURCE_COLUMNS);
        sawHeader = true;
        continue;
      }
      if (cells.length === 0) continue; // A blank line.
      tick();
      let checked = checkSourceCells(cells, halves);
      let optedOut: boolean | undefined;
      if (!(checked instanceof RowProblem)) {
        optedOut = parseOptedOut(cells[2]!);
        if (optedOut === undefined) {
          checked = new RowProblem(
            'BAD_OPTED_OUT',
            3,
            `opted_out "${cells[2]}" is not true/false, 1/0 or yes/no`,
          );
        }
      }
      if (checked instanceof RowProblem) {
        if (!o.skipInvalid)
          throw new InputError({ file: csvPath, line: at, column: checked.column }, checked.message);
        skipped[checked.problem]++;
        continue;
      }
      if (builder.add(checked, halves[0]!, halves[1]!, optedOut!) >= 0)
        await duplicate(checked, at, cells[0]!);
    }
    if (eof && p === end) break;
  }
  if (pending.count > 0) await placePending();
  if (!sawHeader) checkHeader(csvPath, undefined, SOURCE_COLUMNS);
  return { rows, skipped };
}

/** A source row given in memory. */
export interface IndexRow {
  /** E.164, e.g. `+447400123456`. */
  phone: string;
  /** 1 ≤ userId < 2^64. */
  userId: bigint;
  optedOut: boolean;
}

/** Checks a row given in memory; the user id's halves go to `halves`. */
function checkRow(row: IndexRow, halves: Uint32Array): PhoneKey | RowProblem {
  const phone = typeof row?.phone === 'string' ? row.phone : undefined;
  const key = phone === undefined ? undefined : parseE164Strict(phone);
  if (key === undefined)
    return new RowProblem('BAD_PHONE', 1, `phone "${redactPhone(String(phone))}" is not E.164`);
  const id = row.userId;
  if (typeof id !== 'bigint' || id < 1n || id >= 1n << 64n) {
    return new RowProblem('BAD_USER_ID', 2, `userId ${String(id)} is not a bigint from 1 to 2^64 − 1`);
  }
  if (typeof row.optedOut !== 'boolean')
    return new RowProblem('BAD_OPTED_OUT', 3, 'optedOut is not a boolean');
  halves[0] = Number(id & 0xffffffffn);
  halves[1] = Number(id >> 32n);
  return key;
}

/**
 * Builds an index in memory from rows (for tests and small jobs). Bad rows throw `InputError`
 * whose position is `{ file: '<rows>', line: row number (1-based), column }`, or are skipped
 * with `skipInvalid`. Returns the reader over the same image a file would hold, and the report.
 */
export async function buildIndexFromRows(
  rows: Iterable<IndexRow>,
  options?: BuildOptions,
): Promise<{ reader: IndexReader; report: BuildReport }> {
  const started = performance.now();
  const o = resolveOptions(options);
  if (rows === null || typeof (rows as Iterable<IndexRow>)?.[Symbol.iterator] !== 'function') {
    throw new InvalidArgumentError('rows', 'must be an iterable of { phone, userId, optedOut }');
  }
  // Materialised once: the table is sized from the row count before any row goes in.
  const list = Array.isArray(rows) ? (rows as readonly IndexRow[]) : Array.from(rows);
  const builder = new ImageBuilder(list.length, o, ROWS_SOURCE);
  try {
    const skipped = noProblems();
    const halves = new Uint32Array(2);
    for (let i = 0; i < list.length; i++) {
      const row = list[i]!;
      const checked = checkRow(row, halves);
      if (checked instanceof RowProblem) {
        if (!o.skipInvalid)
          throw new InputError({ file: ROWS_SOURCE, line: i + 1, column: checked.column }, checked.message);
        skipped[checked.problem]++;
        continue;
      }
      if (builder.add(checked, halves[0]!, halves[1]!, row.optedOut) >= 0) {
        if (!o.skipInvalid) {
          const first = list.findIndex((r) => parseE164Strict(r.phone) === checked);
          throw new DuplicatePhoneError({ file: ROWS_SOURCE, line: i + 1, column: 1 }, first + 1, row.phone);
        }
        skipped.DUPLICATE_PHONE++;
      }
    }
    const { image, raw } = await builder.finish();
    const report = makeReport(
      ROWS_SOURCE,
      list.length,
      skipped,
      raw,
      builder.optedOutUsers.size,
      builder.validityThreads,
      started,
    );
    return { reader: readerOfImage(exactImage(image, raw.fileBytes), raw), report };
  } finally {
    await builder.close();
  }
}

/**
 * Builds an index in memory from a source CSV (what `match` does when given the CSV itself).
 * The reader's buffer holds exactly the image `writeIndexFile` would write.
 */
export async function buildIndexInMemory(
  csvPath: string,
  options?: BuildOptions,
): Promise<{ reader: IndexReader; report: BuildReport }> {
  const { image, raw, report } = await buildImageFromCsv(csvPath, options);
  return { reader: readerOfImage(exactImage(image, raw.fileBytes), raw), report };
}

/** Writes the first `bytes` of an image to an atomic file, in chunks. */
export function writeImage(out: AtomicFile, image: SharedArrayBuffer, bytes: number): void {
  for (let off = 0; off < bytes; off += WRITE_CHUNK_BYTES) {
    out.write(new Uint8Array(image, off, Math.min(WRITE_CHUNK_BYTES, bytes - off)));
  }
}

/**
 * Builds an index file from a source CSV (`rollcall index build <csv> -o <file>`). Writes via a
 * temp file beside `outPath` renamed on success: on any error (bad row, I/O, abort) nothing is
 * left behind and an existing `outPath` is untouched. Returns the build report.
 */
export async function writeIndexFile(
  csvPath: string,
  outPath: string,
  options?: BuildOptions,
): Promise<BuildReport> {
  return (await writeIndexFileMarking(csvPath, outPath, options, undefined, true)).report;
}

/**
 * {@link writeIndexFile}, marking the entries of users in `alsoOptedOut` opted out too (the
 * sharded build: users opted out in other shards). With `lockOutput`, the rename into place holds
 * the output's update lock (lock.ts): it waits for an `index optout` running on the same file,
 * which would otherwise rename the old index (plus its changes) over the new one when it ends.
 * Returns the report and the users of this file's own opted-out rows.
 */
export async function writeIndexFileMarking(
  csvPath: string,
  outPath: string,
  options: BuildOptions | undefined,
  alsoOptedOut?: UserIdSet,
  lockOutput = false,
): Promise<{ report: BuildReport; optedOutUsers: UserIdSet }> {
  if (typeof outPath !== 'string' || outPath === '')
    throw new InvalidArgumentError('outPath', 'must be a file path');
  resolveOptions(options);
  const started = performance.now();
  // Opened first so an output path that cannot be written fails before a long build.
  const out = new AtomicFile(outPath);
  try {
    const { image, raw, report, optedOutUsers } = await buildImageFromCsv(csvPath, options, alsoOptedOut);
    writeImage(out, image, raw.fileBytes);
    // Renamed only if no stop was asked for, even one that came while the image was being written.
    const commit = () => commitAll([out], { signal: options?.signal });
    await (lockOutput ? withIndexLock(outPath, commit, { signal: options?.signal }) : commit());
    return {
      report: { ...report, output: outPath, durationMs: performance.now() - started },
      optedOutUsers,
    };
  } catch (err) {
    out.abort();
    throw err;
  }
}
