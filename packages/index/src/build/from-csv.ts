/**
 * Building an index image from a `phone,user_id,opted_out` CSV, streamed: pass 1 counts the lines
 * (an upper bound on the entries, which sizes the table once), pass 2 reads the rows straight into
 * the table. Then the image is kept in memory or written to an index file.
 *
 * The reading thread does only what must be done in order: plain rows are read from the file's
 * bytes (source-row.ts, everything else through csv.ts), placed a batch at a time, and each new
 * key is handed to the validity count (validity.ts), which worker threads judge meanwhile.
 */
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError } from '@rollcall/errors';
import { AtomicFile, commitAll } from '@rollcall/files';
import { keyToE164, type PhoneKey, parseE164Strict } from '@rollcall/phone';
import {
  CsvChunks,
  checkHeader,
  countLines,
  csvDataRecords,
  INCOMPLETE,
  type ParsedRecord,
  parseRecord,
} from '../csv.js';
import type { RawHeader } from '../header.js';
import { withIndexLock } from '../lock.js';
import { readerOfImage } from '../reader.js';
import { PLAIN_ROW_MAX_BYTES, PlainRow, readPlainRow } from '../source-row.js';
import type { IndexReader } from '../types.js';
import type { UserIdSet } from '../user-set.js';
import {
  type BuildReport,
  exactImage,
  ImageBuilder,
  makeReport,
  PendingRows,
  writeImage,
} from './image-builder.js';
import {
  type BuildOptions,
  CHECK_EVERY_ROWS,
  type ResolvedOptions,
  resolveOptions,
  throwIfAborted,
} from './options.js';
import {
  checkSourceCells,
  DuplicatePhoneError,
  noSourceRowProblems,
  RowProblem,
  SOURCE_COLUMNS,
  SourceCells,
  type SourceRowProblem,
} from './source-rules.js';

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
  const skipped = noSourceRowProblems();
  const row = new SourceCells();
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
      const checked = checkSourceCells(cells, row);
      if (checked instanceof RowProblem) {
        if (!o.skipInvalid) throw checked.errorAt(csvPath, at);
        skipped[checked.problem]++;
        continue;
      }
      if (builder.add(checked, row.halves[0]!, row.halves[1]!, row.optedOut) >= 0)
        await duplicate(checked, at, cells[0]!);
    }
    if (eof && p === end) break;
  }
  if (pending.count > 0) await placePending();
  if (!sawHeader) checkHeader(csvPath, undefined, SOURCE_COLUMNS);
  return { rows, skipped };
}

/** The first data line whose phone is `key` (error path of a duplicate: reads the file again). */
async function firstLineOf(csvPath: string, key: PhoneKey, before: number): Promise<number> {
  for await (const rec of csvDataRecords(csvPath, SOURCE_COLUMNS)) {
    if (rec.line >= before) break;
    if (parseE164Strict(rec.cells[0]!) === key) return rec.line;
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
