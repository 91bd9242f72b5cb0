/**
 * Building an index image from a `phone,user_id,opted_out` CSV, streamed: pass 1 counts the lines
 * (an upper bound on the entries, which sizes the table once), pass 2 reads the rows straight into
 * the table. Then the image is kept in memory or written to an index file.
 *
 * The reading thread does only what must be done in order: rows are read (source-reader.ts),
 * placed a batch at a time, and each new key is handed to the validity count (validity.ts), which
 * worker threads judge meanwhile.
 */
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError } from '@rollcall/errors';
import { keyToE164, type PhoneKey, parseE164Strict } from '@rollcall/phone';
import { CsvChunks, countLines, csvDataRecords } from '../csv.js';
import { readerOfImage } from '../reader.js';
import type { IndexReader } from '../types.js';
import {
  type BuildReport,
  type BuiltImage,
  exactImage,
  ImageBuilder,
  makeReport,
  PendingRows,
  writeImageFile,
} from './image-builder.js';
import { type BuildOptions, type ResolvedOptions, resolveOptions, throwIfAborted } from './options.js';
import { readSourceRows } from './source-reader.js';
import { DuplicatePhoneError, SOURCE_COLUMNS, type SourceRowProblem } from './source-rules.js';

/** Builds the image of a source CSV; the caller saves or wraps it. */
async function buildImageFromCsv(csvPath: string, options: BuildOptions | undefined): Promise<BuiltImage> {
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
    const { rows, skipped } = await placeSourceRows(csvPath, chunks, builder, o);
    throwIfAborted(o.signal);
    const { image, raw } = await builder.finish();
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
 * Pass 2: streams the rows of `chunks` straight into the table, a batch at a time. A row whose
 * phone is already in the table is skipped, or fails the build naming both lines.
 */
async function placeSourceRows(
  csvPath: string,
  chunks: CsvChunks,
  builder: ImageBuilder,
  o: ResolvedOptions,
): Promise<{ rows: number; skipped: Record<SourceRowProblem, number> }> {
  let duplicates = 0;
  const pending = new PendingRows();
  /** Places the pending rows, in order, before any later row is looked at. */
  const placePending = async () => {
    for (let dup = pending.place(builder); dup >= 0; dup = pending.place(builder)) {
      const key = pending.keys[dup]! as PhoneKey;
      const at = pending.lines[dup]!;
      if (!o.skipInvalid) {
        throw new DuplicatePhoneError(
          { file: csvPath, line: at, column: 1 },
          await firstLineOf(csvPath, key, at),
          keyToE164(key),
        );
      }
      duplicates++;
    }
  };
  const read = await readSourceRows(csvPath, chunks, o, pending, placePending);
  read.skipped.DUPLICATE_PHONE += duplicates;
  return read;
}

/** The first data line whose phone is `key` (error path of a duplicate: reads the file again). */
async function firstLineOf(csvPath: string, key: PhoneKey, before: number): Promise<number> {
  for await (const rec of csvDataRecords(csvPath, SOURCE_COLUMNS)) {
    if (rec.line >= before) break;
    if (parseE164Strict(rec.cells[0]!) === key) return rec.line;
  }
  return before;
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
 * temp file beside `outPath` renamed on success, under the output's update lock: on any error
 * (bad row, I/O, abort) nothing is left behind and an existing `outPath` is untouched. Returns
 * the build report.
 */
export async function writeIndexFile(
  csvPath: string,
  outPath: string,
  options?: BuildOptions,
): Promise<BuildReport> {
  if (typeof outPath !== 'string' || outPath === '')
    throw new InvalidArgumentError('outPath', 'must be a file path');
  resolveOptions(options);
  const built = await writeImageFile(outPath, options?.signal, true, () =>
    buildImageFromCsv(csvPath, options),
  );
  return built.report;
}
