/**
 * Reading the index's CSV inputs (the source `phone,user_id,opted_out` and opt-out changes
 * `phone,opted_out`) straight from the file's bytes, keeping the exact 1-based line of every
 * record. The build reads its plain rows with a faster path of its own (source-row.ts) and
 * hands every other record to {@link parseRecord} here, so both agree on where records end.
 *
 * The dialect (RFC 4180, with the leniencies of the fast-csv parser this replaced):
 * - `,` separates cells; CR LF, LF and a lone CR end a record, also across read chunks.
 * - A cell whose first character other than spaces and tabs is `"` is quoted: the spaces before
 *   the quote are dropped; inside, `""` is one quote and line breaks are content; after the
 *   closing quote only spaces and tabs may come before the next `,` or line end. Anything else
 *   there, or a quote never closed, is a syntax error at its line.
 * - Any other cell is taken as it stands up to the next `,` or line end (spaces kept; a `"`
 *   inside it is literal).
 * - A line of nothing but spaces and tabs is blank: a record with no cells.
 * - Bytes are UTF-8; a leading byte order mark stays in the first cell (see {@link checkHeader}).
 */
import { type FileHandle, open, stat } from 'node:fs/promises';
import { FileError, fileErrorFrom, InputError } from '@rollcall/errors';
import { redactIfNumeric } from '@rollcall/phone';

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

/** Bytes of the first read buffer. It doubles when one record does not fit. */
const READ_CHUNK_BYTES = 4 << 20;

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;

/** {@link parseRecord}'s answer when the record runs past the bytes read so far. */
export const INCOMPLETE = -1;

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
 * A file read front to back into one reused buffer. `buf[start, end)` holds the bytes not yet
 * consumed; {@link next} keeps the unconsumed tail (a record cut by the end of a read) at the
 * front and reads more after it, so a record is always parsed from contiguous bytes.
 */
export class CsvChunks {
  buf: Buffer;
  /** Offset of the first unconsumed byte (always 0 after {@link next}). */
  start = 0;
  /** Offset after the last byte read. */
  end = 0;
  /** True once the file has no more bytes: the bytes in the buffer are the last. */
  eof = false;
  /** Bytes read from the file so far. */
  bytesRead = 0;
  readonly totalBytes: number;
  readonly path: string;
  readonly #fh: FileHandle;

  private constructor(path: string, fh: FileHandle, totalBytes: number, chunkBytes: number) {
    this.path = path;
    this.#fh = fh;
    this.totalBytes = totalBytes;
    this.buf = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, totalBytes + 1)));
  }

  /**
   * Opens `path` (a missing path, a directory or no permission throw FileError). `chunkBytes`,
   * the first buffer's size, is for tests: tiny buffers cut records everywhere.
   */
  static async open(path: string, chunkBytes = READ_CHUNK_BYTES): Promise<CsvChunks> {
    const totalBytes = await sizeOfInput(path);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw fileErrorFrom(path, err, 'read input');
    }
    return new CsvChunks(path, fh, totalBytes, chunkBytes);
  }

  /**
   * Consumes the bytes before `consumed`, then reads more. Returns false when nothing is left:
   * the file ended and every byte was consumed. When the whole buffer is one unfinished record,
   * the buffer doubles (a record is never cut).
   */
  async next(consumed: number): Promise<boolean> {
    const tail = this.end - consumed;
    if (this.eof) {
      this.start = consumed;
      return tail > 0;
    }
    if (consumed === 0 && this.end === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    } else if (tail > 0 && consumed > 0) {
      this.buf.copyWithin(0, consumed, this.end);
    }
    this.start = 0;
    this.end = tail;
    let n: number;
    try {
      ({ bytesRead: n } = await this.#fh.read(this.buf, tail, this.buf.length - tail, this.bytesRead));
    } catch (err) {
      throw fileErrorFrom(this.path, err, 'read input');
    }
    this.bytesRead += n;
    this.end += n;
    if (n === 0) this.eof = true;
    return this.end > 0;
  }

  async close(): Promise<void> {
    await this.#fh.close();
  }
}

/** Where {@link parseRecord} leaves a record: its cells and the line breaks it spans. */
export interface ParsedRecord {
  cells: string[];
  /** Line breaks consumed: inside quoted cells, plus the one that ends the record (if any). */
  breaks: number;
}

/** True for a space or a tab. */
function isBlankByte(c: number): boolean {
  return c === SPACE || c === TAB;
}

/**
 * Offset after the line break at `at` (CR LF, LF or a lone CR), or {@link INCOMPLETE} when a CR
 * is the last byte read and an LF may follow in the next read.
 */
function afterLineBreak(buf: Buffer, at: number, end: number, eof: boolean): number {
  if (buf[at] === LF) return at + 1;
  if (at + 1 < end) return buf[at + 1] === LF ? at + 2 : at + 1;
  return eof ? at + 1 : INCOMPLETE;
}

/** Line breaks in `buf[from, to)` (CR LF counts once); `buf[to]` is a quote, never an LF. */
function breaksIn(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c === LF) n++;
    else if (c === CR && buf[i + 1] !== LF) n++;
  }
  return n;
}

/**
 * Parses the record starting at `buf[p]` (`p < end`), on line `line` of `file`. Fills `out` and
 * returns the offset after the record (and its line break), or {@link INCOMPLETE} when the
 * record may continue past `end` and the file has more bytes (`eof` false). Throws InputError
 * at the line of a quote that is never closed or of a character after a closing quote.
 */
export function parseRecord(
  buf: Buffer,
  p: number,
  end: number,
  eof: boolean,
  file: string,
  line: number,
  out: ParsedRecord,
): number {
  const cells: string[] = [];
  let breaks = 0;
  let i = p;
  // A blank line: nothing but spaces and tabs before the line break (or the end of the file).
  let j = i;
  while (j < end && isBlankByte(buf[j]!)) j++;
  if (j === end) {
    if (!eof) return INCOMPLETE;
    out.cells = cells;
    out.breaks = 0;
    return end;
  }
  if (buf[j] === LF || buf[j] === CR) {
    const after = afterLineBreak(buf, j, end, eof);
    if (after === INCOMPLETE) return INCOMPLETE;
    out.cells = cells;
    out.breaks = 1;
    return after;
  }
  for (;;) {
    let q = i;
    while (q < end && isBlankByte(buf[q]!)) q++;
    if (q < end && buf[q] === QUOTE) {
      // A quoted cell: content up to the closing quote, `""` read as one quote.
      const quoteLine = line + breaks;
      let text = '';
      let from = q + 1;
      for (;;) {
        // Bytes past `end` are stale: a quote found there is no quote.
        let close = buf.indexOf(QUOTE, from);
        if (close >= end) close = -1;
        if (close < 0) {
          if (!eof) return INCOMPLETE;
          throw new InputError(
            { file, line: quoteLine },
            'CSV syntax error: a quoted cell is never closed before the end of the file',
          );
        }
        if (close + 1 === end && !eof) return INCOMPLETE;
        breaks += breaksIn(buf, from, close);
        if (close + 1 < end && buf[close + 1] === QUOTE) {
          text += buf.toString('utf8', from, close + 1);
          from = close + 2;
          continue;
        }
        text += buf.toString('utf8', from, close);
        i = close + 1;
        break;
      }
      cells.push(text);
      while (i < end && isBlankByte(buf[i]!)) i++;
      if (i === end) {
        if (!eof) return INCOMPLETE;
        out.cells = cells;
        out.breaks = breaks;
        return end;
      }
      const c = buf[i];
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === LF || c === CR) {
        const after = afterLineBreak(buf, i, end, eof);
        if (after === INCOMPLETE) return INCOMPLETE;
        out.cells = cells;
        out.breaks = breaks + 1;
        return after;
      }
      throw new InputError(
        { file, line: line + breaks },
        'CSV syntax error: a closing quote must be followed by "," or the end of the line',
      );
    }
    // An unquoted cell: everything up to the next comma or line break.
    let k = i;
    for (; k < end; k++) {
      const c = buf[k];
      if (c === COMMA || c === LF || c === CR) break;
    }
    if (k === end) {
      if (!eof) return INCOMPLETE;
      cells.push(buf.toString('utf8', i, k));
      out.cells = cells;
      out.breaks = breaks;
      return end;
    }
    cells.push(buf.toString('utf8', i, k));
    if (buf[k] === COMMA) {
      i = k + 1;
      continue;
    }
    const after = afterLineBreak(buf, k, end, eof);
    if (after === INCOMPLETE) return INCOMPLETE;
    out.cells = cells;
    out.breaks = breaks + 1;
    return after;
  }
}

/**
 * Physical lines of a file: line breaks are CR LF, LF or a lone CR; a last line without a
 * break counts too. An upper bound on the records (a quoted cell may span lines). Reads the
 * bytes once, with memchr-speed `indexOf`.
 */
export async function countLines(path: string): Promise<number> {
  const chunks = await CsvChunks.open(path);
  let lines = 0;
  let last = -1;
  let pendingCr = false;
  try {
    while (await chunks.next(chunks.end)) {
      const chunk = chunks.buf.subarray(0, chunks.end);
      if (chunk.length === 0) break;
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
  } finally {
    await chunks.close();
  }
  if (pendingCr) lines++;
  // A last line without a trailing break.
  if (last !== -1 && last !== LF && last !== CR) lines++;
  return lines;
}

/** Records between progress calls of {@link csvRecords}. */
const PROGRESS_EVERY_RECORDS = 65536;

/**
 * The records of a CSV file, read a buffer at a time: {@link fill} reads on, then {@link next}
 * gives the records whole in the buffer, one at a time, with no promise per record. The one
 * reading loop of {@link csvRecords} and of the readers that want no promise per record.
 */
export class CsvRecordCursor {
  readonly chunks: CsvChunks;
  readonly #path: string;
  readonly #out: ParsedRecord = { cells: [], breaks: 0 };
  /** Line of the next record. */
  #line = 1;
  /** Offset of the next record in the buffer. */
  #p = 0;
  #done = false;

  private constructor(path: string, chunks: CsvChunks) {
    this.#path = path;
    this.chunks = chunks;
  }

  /** Opens `path` (see {@link CsvChunks.open}; `chunkBytes` is for tests). */
  static async open(path: string, chunkBytes?: number): Promise<CsvRecordCursor> {
    return new CsvRecordCursor(path, await CsvChunks.open(path, chunkBytes));
  }

  /** Reads on past the records taken; false once the file is done. */
  async fill(): Promise<boolean> {
    if (this.#done || !(await this.chunks.next(this.#p))) return false;
    this.#p = this.chunks.start;
    return true;
  }

  /**
   * The next record whole in the buffer, or undefined when the buffer holds no more (then
   * {@link fill}). Throws `InputError` at the line of broken quoting.
   */
  next(): CsvRecord | undefined {
    const { buf, end, eof } = this.chunks;
    const out = this.#out;
    while (this.#p < end) {
      const next = parseRecord(buf, this.#p, end, eof, this.#path, this.#line, out);
      if (next === INCOMPLETE) return undefined;
      this.#p = next;
      // Spaces after the last line break are no record (no cells, and no break of its own).
      if (out.cells.length === 0 && out.breaks === 0) continue;
      const rec = { line: this.#line, cells: out.cells };
      this.#line += out.breaks;
      return rec;
    }
    if (eof) this.#done = true;
    return undefined;
  }

  async close(): Promise<void> {
    await this.chunks.close();
  }
}

/**
 * The records of a CSV file, each with its line. Blank lines come as records with no cells (the
 * caller skips them). A missing or unreadable file throws `FileError`; broken quoting throws
 * `InputError` at the line of the fault. `chunkBytes` is for tests (see {@link CsvChunks.open}).
 */
export async function* csvRecords(
  path: string,
  onProgress?: (p: ReadProgress) => void,
  chunkBytes?: number,
): AsyncGenerator<CsvRecord> {
  const cursor = await CsvRecordCursor.open(path, chunkBytes);
  const { chunks } = cursor;
  let sinceProgress = 0;
  try {
    while (await cursor.fill()) {
      for (let rec = cursor.next(); rec !== undefined; rec = cursor.next()) {
        yield rec;
        if (onProgress !== undefined && ++sinceProgress === PROGRESS_EVERY_RECORDS) {
          sinceProgress = 0;
          onProgress({ bytesRead: chunks.bytesRead, totalBytes: chunks.totalBytes });
        }
      }
    }
  } finally {
    await cursor.close();
  }
  onProgress?.({ bytesRead: chunks.totalBytes, totalBytes: chunks.totalBytes });
}

/**
 * The data records of a CSV file whose header must be `columns` (checked by {@link checkHeader},
 * also when the file is empty): every record after the header but the blank lines.
 */
export async function* csvDataRecords(path: string, columns: readonly string[]): AsyncGenerator<CsvRecord> {
  // Straight over the cursor, not over csvRecords: one generator step a record, not two.
  const cursor = await CsvRecordCursor.open(path);
  let sawHeader = false;
  try {
    while (await cursor.fill()) {
      for (let rec = cursor.next(); rec !== undefined; rec = cursor.next()) {
        if (!sawHeader) {
          checkHeader(path, rec, columns);
          sawHeader = true;
        } else if (rec.cells.length > 0) {
          yield rec;
        }
      }
    }
  } finally {
    await cursor.close();
  }
  if (!sawHeader) checkHeader(path, undefined, columns);
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
        // A file without its header has a data row there: its phone and user id are not shown.
        `wrong header: expected "${want}", got "${record.cells.map((c) => redactIfNumeric(c)).join(',')}"`,
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
