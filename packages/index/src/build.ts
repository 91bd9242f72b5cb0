/**
 * Building an index image from a `phone,user_id,opted_out` CSV (streamed) or from rows, straight
 * into the table of a SharedArrayBuffer sized once from an upper bound on the entries.
 */
import { performance } from 'node:perf_hooks';
import {
  ErrorCodes,
  InputError,
  type InputPosition,
  InvalidArgumentError,
  RollcallError,
} from '@rollcall/errors';
import { AtomicFile } from '@rollcall/files';
import { isValidE164, type PhoneKey, parseE164Strict, phoneMetadataInfo, redactPhone } from '@rollcall/phone';
import { checksumRange } from './checksum.js';
import { checkHeader, countLines, csvRecords, parseOptedOut } from './csv.js';
import { decodeHeader, imageGeometry, type RawHeader, sealHeader, writeHeaderFields } from './header.js';
import {
  assertLittleEndian,
  HEADER_BYTES,
  MAX_CAPACITY,
  SLOT_WORDS,
  TABLE_OFFSET,
  TWO_POW_32,
} from './layout.js';
import { readerOfImage } from './reader.js';
import { fillSha256Section } from './sha256-section.js';
import { capacityFor, findSlot, writeSlot } from './table.js';
import type { IndexReader } from './types.js';
import { readUserIdHalves } from './user-id.js';

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
  /** Called now and then with progress. */
  onProgress?: (progress: BuildProgress) => void;
  /** Aborts the build (`ERR_ABORTED`); nothing is written. */
  signal?: AbortSignal;
}

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
  /** Entries opted out. */
  optedOut: number;
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
  durationMs: number;
}

interface ResolvedOptions {
  skipInvalid: boolean;
  withSha256: boolean;
  hashSeed: number;
  shard: number;
  shardCount: number;
  builtAt: number;
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
    name: 'hashSeed' | 'shard' | 'shardCount' | 'builtAt',
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

/**
 * Fills the table of one image. Memory is the final image, allocated once: the table is sized
 * from an upper bound on the entries and never grows or rehashes.
 */
class ImageBuilder {
  readonly capacity: number;
  readonly image: SharedArrayBuffer;
  readonly table: Uint32Array;
  entries = 0;
  optedOut = 0;
  neverMatchable = 0;
  readonly #maxEntries: number;
  readonly #opts: ResolvedOptions;
  readonly #source: string;

  constructor(maxEntries: number, opts: ResolvedOptions, source: string) {
    assertLittleEndian();
    this.#maxEntries = maxEntries;
    this.#opts = opts;
    this.#source = source;
    this.capacity = capacityFor(maxEntries);
    if (this.capacity > MAX_CAPACITY) {
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
  }

  /** Adds an entry; returns -1, or the slot already holding the key (nothing is changed then). */
  add(key: PhoneKey, userLo: number, userHi: number, optedOut: boolean): number {
    const lo = key >>> 0;
    const hi = (key - lo) / TWO_POW_32;
    const found = findSlot(this.table, this.capacity, this.#opts.hashSeed, lo, hi);
    if (found >= 0) return found;
    if (this.entries >= this.#maxEntries) {
      // Only if the file grew between the counting pass and this one.
      throw new InputError({ file: this.#source }, 'the file changed while the index was being built');
    }
    writeSlot(this.table, -1 - found, lo, hi, userLo, userHi, optedOut);
    this.entries++;
    if (optedOut) this.optedOut++;
    if (!isValidE164(key)) this.neverMatchable++;
    return -1;
  }

  /**
   * Adds the SHA-256 section, writes the header and both checksums. Returns the image (possibly
   * longer than the file when rows were skipped: only its first `raw.fileBytes` count).
   */
  async finish(): Promise<{ image: SharedArrayBuffer; raw: RawHeader }> {
    const o = this.#opts;
    const g = imageGeometry(this.capacity, this.entries, o.withSha256);
    if (o.withSha256) fillSha256Section(this.image, this.table, this.capacity, this.entries, g.sha256Offset);
    const header = new Uint8Array(this.image, 0, HEADER_BYTES);
    const info = phoneMetadataInfo();
    writeHeaderFields(header, {
      entries: this.entries,
      capacity: this.capacity,
      optedOut: this.optedOut,
      neverMatchable: this.neverMatchable,
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
    durationMs: performance.now() - started,
  };
}

/** The image cut to exactly its file bytes (a copy only when rows were skipped with the SHA-256 section on). */
function exactImage(image: SharedArrayBuffer, fileBytes: number): SharedArrayBuffer {
  if (image.byteLength === fileBytes) return image;
  const exact = new SharedArrayBuffer(fileBytes);
  new Uint8Array(exact).set(new Uint8Array(image, 0, fileBytes));
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

/** Builds the image of a source CSV; the caller saves or wraps it. */
async function buildImageFromCsv(
  csvPath: string,
  options: BuildOptions | undefined,
): Promise<{ image: SharedArrayBuffer; raw: RawHeader; report: BuildReport }> {
  const started = performance.now();
  const o = resolveOptions(options);
  if (typeof csvPath !== 'string' || csvPath === '')
    throw new InvalidArgumentError('csvPath', 'must be a file path');
  // Pass 1 sizes the table: every line but the header may be an entry (an upper bound).
  const lines = await countLines(csvPath);
  const builder = new ImageBuilder(Math.max(0, lines - 1), o, csvPath);
  const skipped = noProblems();
  const halves = new Uint32Array(2);
  let rows = 0;
  let sawHeader = false;
  let bytes = { bytesRead: 0, totalBytes: 0 };
  const onRead = o.onProgress === undefined ? undefined : (p: typeof bytes) => (bytes = p);
  // Pass 2 streams the rows straight into the table.
  for await (const rec of csvRecords(csvPath, onRead)) {
    if (!sawHeader) {
      checkHeader(csvPath, rec, SOURCE_COLUMNS);
      sawHeader = true;
      continue;
    }
    const cells = rec.cells;
    if (cells.length === 0) continue; // A blank line.
    if (++rows % CHECK_EVERY_ROWS === 0) {
      throwIfAborted(o.signal);
      o.onProgress?.({ rows, ...bytes });
    }
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
        throw new InputError({ file: csvPath, line: rec.line, column: checked.column }, checked.message);
      skipped[checked.problem]++;
      continue;
    }
    if (builder.add(checked, halves[0]!, halves[1]!, optedOut!) >= 0) {
      if (!o.skipInvalid) {
        throw new DuplicatePhoneError(
          { file: csvPath, line: rec.line, column: 1 },
          await firstLineOf(csvPath, checked, rec.line),
          cells[0]!,
        );
      }
      skipped.DUPLICATE_PHONE++;
    }
  }
  if (!sawHeader) checkHeader(csvPath, undefined, SOURCE_COLUMNS);
  throwIfAborted(o.signal);
  const { image, raw } = await builder.finish();
  o.onProgress?.({ rows, ...bytes });
  return { image, raw, report: makeReport(csvPath, rows, skipped, raw, started) };
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
  const report = makeReport(ROWS_SOURCE, list.length, skipped, raw, started);
  return { reader: readerOfImage(exactImage(image, raw.fileBytes), raw), report };
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
  if (typeof outPath !== 'string' || outPath === '')
    throw new InvalidArgumentError('outPath', 'must be a file path');
  resolveOptions(options);
  const started = performance.now();
  // Opened first so an output path that cannot be written fails before a long build.
  const out = new AtomicFile(outPath);
  try {
    const { image, raw, report } = await buildImageFromCsv(csvPath, options);
    writeImage(out, image, raw.fileBytes);
    out.commit();
    return { ...report, output: outPath, durationMs: performance.now() - started };
  } catch (err) {
    out.abort();
    throw err;
  }
}
