import { ErrorCodes, InputError, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { BatchBuilder, MAX_COUNTRY_CHARS } from './batch.js';
import { detectColumns } from './columns.js';
import { detectDelimiter, findHeaderLine } from './delimiter.js';
import type { EncodingGuess } from './encoding.js';
import { bomLengthOf, createChunkDecoder, sniffEncoding } from './encoding.js';
import { MAX_CELL_CHARS, MAX_HEADER_CHARS, type ValidOptions, validateOptions } from './options.js';
import { isPayloadStart, MAX_PAYLOAD_BYTES, openPayload } from './payload.js';
import { showHeaders } from './redact.js';
import {
  abortedError,
  type ByteSource,
  type Compression,
  decompressed,
  openInput,
  RecordingSource,
  STDIN_NAME,
  STDIN_PATH,
} from './source.js';
import { RowSplitter } from './splitter.js';
import type { UploadBatch, UploadEncoding, UploadFileReader, UploadOptions } from './types.js';

/**
 * Bytes per read from the file, and so the length of each decoded text chunk. 64 KiB, not more: a
 * chunk becomes one string, and V8 makes a string past about 100 KB far more slowly (decoding a
 * 47 MB upload on Node 20 took 41–73 ms in 64 KiB chunks but 1.06–1.52 s in 100–256 KiB ones; it
 * was the main thread's largest cost in a 1M-row match, issue 17).
 */
const READ_CHUNK_BYTES = 64 * 1024;
/** Knobs for tests only (not part of the public options). */
export interface ReadInternals {
  /** Bytes per read; small values exercise chunk boundaries. */
  chunkBytes?: number;
  /** The payload size cap instead of `MAX_PAYLOAD_BYTES`, so that tests need not write 256 MiB. */
  maxPayloadBytes?: number;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Reads the first bytes until the encoding is decided; returns the guess and the bytes read. */
async function readEncoding(
  source: ByteSource,
  forced: UploadEncoding | undefined,
): Promise<{ guess: EncodingGuess; bytes: Uint8Array }> {
  let bytes: Uint8Array = new Uint8Array(0);
  for (;;) {
    bytes = concat(bytes, await source.next());
    if (forced !== undefined) {
      // Enough bytes to see a byte-order mark (3 at most).
      if (bytes.length >= 3 || source.eof)
        return { guess: { encoding: forced, bomLength: bomLengthOf(bytes, forced) }, bytes };
      continue;
    }
    const guess = sniffEncoding(bytes, source.eof);
    if (guess !== undefined) return { guess, bytes };
  }
}

function stripBom(header: string): string {
  return header.charCodeAt(0) === 0xfeff ? header.slice(1) : header;
}

function emptyFileError(file: string): InputError {
  return new InputError({ file, line: 1 }, 'empty file: no header');
}

function headerTooLongError(file: string, line: number): InputError {
  return new InputError(
    { file, line },
    `the header line is longer than ${MAX_HEADER_CHARS} characters; is this a CSV file with a header row?`,
  );
}

/**
 * Opens an advertiser upload: detects its compression, encoding and format, then for a CSV its
 * delimiter and header, and finds the phone columns and the country column (see `detectColumns`).
 * Reads only the start of a CSV (the header and up to 1 MiB for encoding detection);
 * {@link UploadReader.batches} then streams the rows.
 *
 * A file whose first non-blank character is `{` is a Meta Custom Audience payload (JSON,
 * `{"payload": {"schema": …, "data": […]}}` or `{"schema": …, "data": […]}`), whatever its name,
 * plain or gzip-compressed: it is read whole when opened (at most `MAX_PAYLOAD_BYTES`), and its
 * rows' "lines" are their 1-based positions in `data` (see `openPayload`).
 *
 * `path` may be a regular file, a FIFO or pipe (`/dev/stdin`), or `-` for standard input; a file
 * compressed with gzip is decompressed as it is read (told by its first bytes, not its name). A
 * regular file is opened again by each `batches()` pass; a pipe is read once, so `batches()` can
 * then be called once. Opening never blocks on a FIFO that has no writer yet: the read waits, and
 * the abort signal ends the wait.
 *
 * Throws `ERR_IO` when the file cannot be read (or is a directory or a device), `ERR_BAD_INPUT`
 * when it is empty, a zip archive, bad gzip, bad JSON, its header is unusable or longer than
 * {@link MAX_HEADER_CHARS}, no phone column is found, or several columns could hold the country,
 * `ERR_INVALID_ARGUMENT` for bad options or a `phoneColumn` / `countryColumn` that is not a header,
 * `ERR_ABORTED` when the signal fires.
 */
export function openUpload(path: string, options: UploadOptions = {}): Promise<UploadFileReader> {
  return openUploadWith(path, options, {});
}

/** The bytes of an upload as text bytes (decompressed), and what a second pass needs to know. */
interface OpenedUpload {
  source: ByteSource;
  kind: 'file' | 'stream';
  totalBytes: number | null;
  compression: Compression;
}

async function openBytes(
  path: string,
  file: string,
  chunkBytes: number,
  signal: AbortSignal | undefined,
): Promise<OpenedUpload> {
  const input = await openInput(path, file, chunkBytes, signal);
  try {
    const { source, compression } = await decompressed(input.source, file, chunkBytes);
    return { source, kind: input.kind, totalBytes: input.totalBytes, compression };
  } catch (err) {
    await input.source.close();
    throw err;
  }
}

/** True when `text` holds only JSON whitespace (space, tab, CR, LF). */
function isJsonBlank(text: string): boolean {
  return /^[ \t\r\n]*$/.test(text);
}

/** {@link openUpload} with test knobs. */
export async function openUploadWith(
  path: string,
  options: UploadOptions,
  internals: ReadInternals,
): Promise<UploadFileReader> {
  if (typeof path !== 'string' || path === '') {
    throw new InvalidArgumentError('path', 'must be a file path, or - for standard input');
  }
  const valid = validateOptions(options);
  const file = path === STDIN_PATH ? STDIN_NAME : path;
  const chunkBytes = internals.chunkBytes ?? READ_CHUNK_BYTES;
  if (valid.signal?.aborted) throw abortedError(file, valid.signal);

  const opened = await openBytes(path, file, chunkBytes, valid.signal);
  // A stream cannot be read twice: keep what this first look reads, for batches() to replay.
  const source = opened.kind === 'stream' ? new RecordingSource(opened.source) : opened.source;
  let keepOpen = false;
  try {
    const { guess, bytes } = await readEncoding(source, valid.encoding);
    const decoder = createChunkDecoder(guess.encoding);
    let text = decoder.decode(bytes.subarray(guess.bomLength), source.eof);
    let consumed = bytes.length;

    // A JSON payload is told by its first non-blank character; read on past leading blanks
    // (bounded as a header is).
    while (isJsonBlank(text) && !source.eof && text.length <= MAX_HEADER_CHARS) {
      const more = await source.next();
      consumed += more.length;
      text += decoder.decode(more, source.eof);
    }
    if (isPayloadStart(text)) {
      // The payload is read whole now: a stream needs no replay.
      if (source instanceof RecordingSource) source.stopRecording();
      return await openPayload({
        file,
        source,
        decoder,
        text,
        consumed,
        encoding: guess.encoding,
        kind: opened.kind,
        totalBytes: opened.totalBytes,
        compression: opened.compression,
        options: valid,
        maxBytes: internals.maxPayloadBytes ?? MAX_PAYLOAD_BYTES,
        reopen: async () => {
          const again = await openBytes(path, file, chunkBytes, valid.signal);
          if (again.kind !== 'file' || again.compression !== opened.compression) {
            await again.source.close();
            throw new InputError({ file }, 'the file changed since it was opened');
          }
          return again.source;
        },
      });
    }

    // Enough text to hold the header line, for delimiter detection; the cap is exact: a header
    // line of MAX_HEADER_CHARS characters is read, one more is refused.
    let headerLine = findHeaderLine(text, source.eof);
    while (headerLine.end === undefined) {
      if (text.length - headerLine.start > MAX_HEADER_CHARS) {
        throw headerTooLongError(file, 1 + countLineEnds(text, headerLine.start));
      }
      const more = await source.next();
      text += decoder.decode(more, source.eof);
      headerLine = findHeaderLine(text, source.eof);
    }
    // Lines before it are blank by findHeaderLine's rule (spaces, tabs, any candidate delimiter),
    // which is wider than the splitter's (one delimiter): `;;;` above a comma header is skipped.
    const firstLine = 1 + countLineEnds(text, headerLine.start);
    if (headerLine.end - headerLine.start > MAX_HEADER_CHARS) throw headerTooLongError(file, firstLine);
    const delimiter = valid.delimiter ?? detectDelimiter(text.slice(headerLine.start, headerLine.end));

    let headers: string[] | undefined;
    let line = 1;
    const splitter = new RowSplitter(
      file,
      delimiter,
      (recordLine, _count, fields) => {
        if (headers === undefined && recordLine >= firstLine) {
          headers = fields as string[];
          line = recordLine;
          // The rest of the text read is rows: no need to build their cells.
          splitter.capture([], []);
        }
      },
      MAX_HEADER_CHARS,
    );
    let pushed = text.length;
    splitter.push(text);
    // The splitter may read the header's quotes otherwise than findHeaderLine: bound it too.
    while (headers === undefined && !source.eof) {
      if (pushed - headerLine.start > MAX_HEADER_CHARS) throw headerTooLongError(file, firstLine);
      const more = decoder.decode(await source.next(), source.eof);
      pushed += more.length;
      splitter.push(more);
    }
    if (headers === undefined) splitter.end();
    if (headers === undefined) throw emptyFileError(file);
    const found: string[] = headers;
    found[0] = stripBom(found[0]!);

    const columns = detectColumns(found, {
      phoneColumn: valid.phoneColumn,
      countryColumn: valid.countryColumn,
      file,
      line,
    });
    const upload = new FileUpload(
      { path, file, chunkBytes, options: valid, ...opened },
      found,
      columns.phoneColumns,
      columns.countryColumn,
      guess.encoding,
      delimiter,
      line,
      source instanceof RecordingSource ? source : undefined,
    );
    keepOpen = source instanceof RecordingSource;
    return upload;
  } finally {
    // A file is opened again by batches(); a stream stays open for it.
    if (!keepOpen) await source.close();
  }
}

/** How to read an upload again: its path, name, kind, and the options it was opened with. */
interface UploadOrigin {
  path: string;
  file: string;
  kind: 'file' | 'stream';
  totalBytes: number | null;
  compression: Compression;
  chunkBytes: number;
  options: ValidOptions;
}

class FileUpload implements UploadFileReader {
  readonly file: string;
  readonly format = 'csv';
  readonly headers: readonly string[];
  readonly phoneColumn: number;
  readonly phoneColumns: readonly number[];
  readonly countryColumn: number | null;
  readonly hashed = null;
  readonly encoding: UploadEncoding;
  readonly delimiter: string;
  readonly headerLine: number;
  readonly totalBytes: number | null;
  readonly compression: Compression;
  readonly #origin: UploadOrigin;
  /** A stream's first look, still open, to replay and continue; taken by the one pass it allows. */
  #stream: RecordingSource | undefined;
  #passes = 0;
  #source: ByteSource | undefined;

  constructor(
    origin: UploadOrigin,
    headers: string[],
    phoneColumns: readonly number[],
    countryColumn: number | null,
    encoding: UploadEncoding,
    delimiter: string,
    headerLine: number,
    stream: RecordingSource | undefined,
  ) {
    this.file = origin.file;
    this.headers = Object.freeze(headers);
    this.phoneColumn = phoneColumns[0]!;
    this.phoneColumns = Object.freeze([...phoneColumns]);
    this.countryColumn = countryColumn;
    this.encoding = encoding;
    this.delimiter = delimiter;
    this.headerLine = headerLine;
    this.totalBytes = origin.totalBytes;
    this.compression = origin.compression;
    this.#origin = origin;
    this.#stream = stream;
  }

  get bytesRead(): number {
    return this.#source?.bytesRead ?? 0;
  }

  /** The bytes of a new pass: the file opened again, or the stream replayed from its start. */
  async #open(): Promise<ByteSource> {
    const { path, file, kind, chunkBytes, options } = this.#origin;
    if (kind === 'stream') {
      const stream = this.#stream;
      this.#stream = undefined;
      if (stream === undefined || this.#passes > 0) {
        throw new RollcallError(
          ErrorCodes.INVALID_ARGUMENT,
          `${file}: a pipe or standard input can be read only once; batches() was called again`,
        );
      }
      return stream.replay();
    }
    const opened = await openBytes(path, file, chunkBytes, options.signal);
    if (opened.kind !== 'file' || opened.compression !== this.compression) {
      await opened.source.close();
      throw new InputError({ file }, 'the file changed since it was opened');
    }
    return opened.source;
  }

  async *batches(): AsyncGenerator<UploadBatch, void, undefined> {
    const { file, headers, phoneColumns, countryColumn } = this;
    const { signal, batchSize } = this.#origin.options;
    if (signal?.aborted) throw abortedError(file, signal);
    const source = await this.#open();
    this.#passes++;
    try {
      this.#source = source;
      const width = phoneColumns.length;
      const batch = new BatchBuilder(batchSize, width, countryColumn !== null);
      // Captured: the phone cells (a cut one makes the row malformed), then the country cell
      // (cut silently: the phone package judges it).
      const captured = countryColumn === null ? [...phoneColumns] : [...phoneColumns, countryColumn];
      const limits = captured.map((_, k) => (k < width ? MAX_CELL_CHARS : MAX_COUNTRY_CHARS));
      const columns = headers.length;
      let headerSeen = false;
      const splitter = new RowSplitter(
        file,
        this.delimiter,
        (line, fieldCount, cells, cut) => {
          if (headerSeen) {
            let malformed = fieldCount !== columns;
            for (let c = 0; c < width; c++) if (cut[c] === 1) malformed = true;
            batch.add(cells, line, malformed);
            return;
          }
          if (line < this.headerLine) return; // blank by the header search's rule
          // The file is read again from the start: make sure it is still the file we opened.
          const fields = cells as string[];
          if (fields.length > 0) fields[0] = stripBom(fields[0]!);
          if (line !== this.headerLine || !sameHeaders(fields, headers)) {
            throw new InputError(
              { file, line },
              `the file changed since it was opened: the header is now ${showHeaders(fields)}`,
            );
          }
          headerSeen = true;
          splitter.capture(captured, limits);
        },
        MAX_HEADER_CHARS,
      );

      // Skip the byte-order mark (up to 3 bytes; a tiny chunk size may need several reads).
      let head: Uint8Array = new Uint8Array(0);
      while (head.length < 3 && !source.eof) head = concat(head, await source.next());
      const decoder = createChunkDecoder(this.encoding);
      splitter.push(decoder.decode(head.subarray(bomLengthOf(head, this.encoding)), source.eof));
      yield* batch.drain();
      while (!source.eof) {
        const bytes = await source.next();
        splitter.push(decoder.decode(bytes, source.eof));
        yield* batch.drain();
      }
      splitter.end();
      if (!headerSeen) throw emptyFileError(file);
      batch.flush();
      yield* batch.drain();
    } finally {
      await source.close();
    }
  }
}

/** The number of line ends (CRLF, LF or lone CR) in `text[0, end)`. */
function countLineEnds(text: string, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) n++;
  }
  return n;
}

function sameHeaders(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((h, i) => h === b[i]);
}
