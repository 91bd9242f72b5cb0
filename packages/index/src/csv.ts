/**
 * Reading the index's CSV inputs (the source `phone,user_id,opted_out` and opt-out changes
 * `phone,opted_out`) with fast-csv, keeping the exact 1-based line of every record.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { FileError, fileErrorFrom, InputError } from '@rollcall/errors';
import { parse } from 'fast-csv';

/** One CSV record and the physical line it starts on. */
export interface CsvRecord {
  /** 1-based line of the record's first character. */
  line: number;
  /** The cells; empty for a blank (or whitespace-only) line. */
  cells: string[];
}

/** Progress of a file being read. */
export interface ReadProgress {
  bytesRead: number;
  totalBytes: number;
}

const READ_CHUNK_BYTES = 1 << 20;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/**
 * Line breaks inside a cell (only a quoted cell can hold them). fast-csv ends a record at CR LF,
 * LF or a lone CR, so each of those counts as one line here too; counting only LF would drift on
 * CR-only files.
 */
function breaksIn(cell: string): number {
  if (cell.indexOf('\n') < 0 && cell.indexOf('\r') < 0) return 0;
  let n = 0;
  for (let i = 0; i < cell.length; i++) {
    const c = cell.charCodeAt(i);
    if (c === LF) n++;
    else if (c === CR && cell.charCodeAt(i + 1) !== LF) n++;
  }
  return n;
}

/** Throws a FileError unless `path` is a readable regular file; returns its size. */
export async function sizeOfInput(path: string): Promise<number> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) {
      throw fileErrorFrom(path, Object.assign(new Error('is a directory'), { code: 'EISDIR' }), 'read input');
    }
    return s.size;
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw fileErrorFrom(path, err, 'read input');
  }
}

/**
 * Physical lines of a file, as fast-csv counts records: line breaks are CR LF, LF or a lone CR;
 * a last line without a break counts too. An upper bound on the records (a quoted cell may span
 * lines). Reads the bytes once, with memchr-speed `indexOf`.
 */
export async function countLines(path: string): Promise<number> {
  await sizeOfInput(path);
  let lines = 0;
  let last = -1;
  let pendingCr = false;
  try {
    for await (const chunk of createReadStream(path, {
      highWaterMark: READ_CHUNK_BYTES,
    }) as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      // A CR that ended the previous chunk is a break of its own unless this chunk starts with LF
      // (then the LF below counts the CR LF pair once).
      if (pendingCr && chunk[0] !== LF) lines++;
      for (let at = chunk.indexOf(LF); at >= 0; at = chunk.indexOf(LF, at + 1)) lines++;
      for (let at = chunk.indexOf(CR); at >= 0; at = chunk.indexOf(CR, at + 1)) {
        if (at + 1 < chunk.length && chunk[at + 1] !== LF) lines++;
      }
      pendingCr = chunk[chunk.length - 1] === CR;
      last = chunk[chunk.length - 1]!;
    }
  } catch (err) {
    throw fileErrorFrom(path, err, 'read input');
  }
  if (pendingCr) lines++;
  // A last line without a trailing break.
  if (last !== -1 && last !== LF && last !== CR) lines++;
  return lines;
}

/**
 * The first line at or after `fromLine` that holds a quote character, else `fromLine`: where a
 * CSV syntax error sits (fast-csv only fails on quotes, and reports no position). Error path only.
 */
async function lineOfQuote(path: string, fromLine: number): Promise<number> {
  let line = 1;
  let pendingCr = false;
  for await (const chunk of createReadStream(path, {
    highWaterMark: READ_CHUNK_BYTES,
  }) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (pendingCr) {
        pendingCr = false;
        if (c === LF) continue;
      }
      if (c === LF) line++;
      else if (c === CR) {
        line++;
        pendingCr = true;
      } else if (c === QUOTE && line >= fromLine) return line;
    }
  }
  return fromLine;
}

/**
 * The records of a CSV file, each with its line. Blank lines come as records with no cells (the
 * caller skips them). A missing or unreadable file throws `FileError`; broken quoting throws
 * `InputError` at the line of the fault.
 */
export async function* csvRecords(
  path: string,
  onProgress?: (p: ReadProgress) => void,
): AsyncGenerator<CsvRecord> {
  const totalBytes = await sizeOfInput(path);
  const input = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  // `ignoreEmpty: false` so blank lines still come through and keep the line count exact.
  const parser = parse({ ignoreEmpty: false });
  let readError: unknown;
  input.on('error', (err) => {
    readError = err;
    parser.destroy(err);
  });
  input.pipe(parser);
  let line = 1;
  let sinceProgress = 0;
  try {
    for await (const row of parser as AsyncIterable<string[]>) {
      yield { line, cells: row };
      // fast-csv gives no positions: the next record starts after this one's own line breaks
      // (inside quoted cells) and the break that ends it.
      line += 1;
      for (let i = 0; i < row.length; i++) line += breaksIn(row[i]!);
      if (onProgress !== undefined && ++sinceProgress === 65536) {
        sinceProgress = 0;
        onProgress({ bytesRead: input.bytesRead, totalBytes });
      }
    }
  } catch (err) {
    if (readError !== undefined) throw fileErrorFrom(path, readError, 'read input');
    const message = err instanceof Error ? err.message : String(err);
    throw new InputError(
      { file: path, line: await lineOfQuote(path, line) },
      `CSV syntax error: ${message}`,
      {
        cause: err,
      },
    );
  } finally {
    input.destroy();
    parser.destroy();
  }
  if (readError !== undefined) throw fileErrorFrom(path, readError, 'read input');
  onProgress?.({ bytesRead: totalBytes, totalBytes });
}

/** The UTF-8 byte order mark some spreadsheet programs put first. */
const BOM = '\ufeff';

/**
 * Checks a header record against the expected column names (cells trimmed, any case, a leading
 * BOM ignored). Throws `InputError` at the first column that differs.
 */
export function checkHeader(file: string, record: CsvRecord | undefined, expected: readonly string[]): void {
  const want = expected.join(',');
  if (record === undefined) {
    throw new InputError({ file, line: 1 }, `the file is empty: expected the header "${want}"`);
  }
  const cells = record.cells.map((c, i) =>
    (i === 0 && c.startsWith(BOM) ? c.slice(1) : c).trim().toLowerCase(),
  );
  for (let i = 0; i < Math.max(cells.length, expected.length); i++) {
    if (cells[i] !== expected[i]) {
      throw new InputError(
        { file, line: record.line, column: i + 1 },
        `wrong header: expected "${want}", got "${record.cells.join(',')}"`,
      );
    }
  }
}

/** Reads an opted-out cell: true/false, 1/0, yes/no, any case, surrounding spaces ignored. */
export function parseOptedOut(text: string): boolean | undefined {
  // The spellings a generated file uses, without allocating.
  if (text === 'false') return false;
  if (text === 'true') return true;
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === '1' || t === 'yes') return true;
  if (t === 'false' || t === '0' || t === 'no') return false;
  return undefined;
}
