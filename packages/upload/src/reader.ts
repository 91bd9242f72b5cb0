import { ErrorCodes, InputError, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { detectPhoneColumn } from './columns.js';
import { detectDelimiter, findHeaderLine } from './delimiter.js';
import type { EncodingGuess } from './encoding.js';
import { bomLengthOf, createChunkDecoder, sniffEncoding } from './encoding.js';
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

/** Rows per batch unless {@link UploadOptions.batchSize} says otherwise. */
export const DEFAULT_BATCH_SIZE = 8192;
/** The largest accepted batch size (a batch is allocated whole). */
export const MAX_BATCH_SIZE = 1 << 24;
/** Bytes per read from the file. */
const READ_CHUNK_BYTES = 256 * 1024;
/** A header line longer than this (characters) is refused: no header is, and it bounds memory. */
export const MAX_HEADER_CHARS = 1 << 20;
/**
 * Phone cells are cut at this many characters and their row flagged malformed. Far above any
 * phone spelling (libphonenumber refuses input over 250 characters) or hash, so nothing valid is
 * cut, and a cut cell can never be mistaken for a valid number.
 */
export const MAX_CELL_CHARS = 1024;

const ENCODINGS: readonly UploadEncoding[] = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'];

/** Knobs for tests only (not part of the public options). */
export interface ReadInternals {
  /** Bytes per read; small values exercise chunk boundaries. */
  chunkBytes?: number;
}

interface ValidOptions {
  phoneColumn: string | undefined;
  delimiter: string | undefined;
  encoding: UploadEncoding | undefined;
  batchSize: number;
  signal: AbortSignal | undefined;
}

/** Checks the options of {@link openUpload}; throws `ERR_INVALID_ARGUMENT` naming the bad one. */
function validateOptions(options: UploadOptions): ValidOptions {
  const { phoneColumn, encoding, signal } = options;
  let { delimiter } = options;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new InvalidArgumentError('batchSize', `must be an integer from 1 to ${MAX_BATCH_SIZE}`);
  }
  if (delimiter !== undefined) {
    if (delimiter === 'tab' || delimiter === '\\t') delimiter = '\t';
    if (typeof delimiter !== 'string' || delimiter.length !== 1 || /["\r\n]/.test(delimiter)) {
      throw new InvalidArgumentError(
        'delimiter',
        'must be one character other than a quote or a line break, e.g. "," ";" "|" or "tab"',
      );
    }
  }
  if (encoding !== undefined && !ENCODINGS.includes(encoding)) {
    throw new InvalidArgumentError('encoding', `must be one of ${ENCODINGS.join(', ')}`);
  }
  if (phoneColumn !== undefined && typeof phoneColumn !== 'string') {
    throw new InvalidArgumentError('phoneColumn', 'must be a header name');
  }
  return { phoneColumn, delimiter, encoding, batchSize, signal };
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
 * Opens an advertiser upload: detects its compression, encoding, delimiter and header, and finds
 * the phone column. Reads only the start of the file (the header and up to 1 MiB for encoding
 * detection); {@link UploadReader.batches} then streams the rows.
 *
 * `path` may be a regular file, a FIFO or pipe (`/dev/stdin`), or `-` for standard input; a file
 * compressed with gzip is decompressed as it is read (told by its first bytes, not its name). A
 * regular file is opened again by each `batches()` pass; a pipe is read once, so `batches()` can
 * then be called once. Opening never blocks on a FIFO that has no writer yet: the read waits, and
 * the abort signal ends the wait.
 *
 * Throws `ERR_IO` when the file cannot be read (or is a directory or a device), `ERR_BAD_INPUT`
 * when it is empty, a zip archive, bad gzip, its header is unusable or longer than
 * {@link MAX_HEADER_CHARS}, or no single phone column is found, `ERR_INVALID_ARGUMENT` for bad
 * options or a `phoneColumn` that is not a header, `ERR_ABORTED` when the signal fires.
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
      (recordLine, _count, _cell, fields) => {
        if (headers === undefined && recordLine >= firstLine) {
          headers = fields!;
          line = recordLine;
          // The rest of the text read is rows: no need to build their cells.
          splitter.captureOnly(-1, 0);
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

    const phoneColumn = detectPhoneColumn(found, { phoneColumn: valid.phoneColumn, file, line });
    const upload = new FileUpload(
      { path, file, chunkBytes, options: valid, ...opened },
      found,
      phoneColumn,
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

/** Collects rows into batches of a fixed size. */
class BatchBuilder {
  readonly #size: number;
  readonly ready: UploadBatch[] = [];
  #cells: string[] = [];
  #lines: Uint32Array;
  #malformed: Uint8Array;
  #n = 0;

  constructor(size: number) {
    this.#size = size;
    this.#lines = new Uint32Array(size);
    this.#malformed = new Uint8Array(size);
  }

  add(cell: string, line: number, malformed: boolean): void {
    const n = this.#n;
    this.#cells.push(cell);
    this.#lines[n] = line;
    if (malformed) this.#malformed[n] = 1;
    this.#n = n + 1;
    if (this.#n === this.#size) this.flush();
  }

  /** Moves the rows gathered so far (if any) to {@link BatchBuilder.ready}. */
  flush(): void {
    const n = this.#n;
    if (n === 0) return;
    this.ready.push({
      cells: this.#cells,
      // subarray only for the last, partial batch; full batches keep their buffers whole.
      lines: n === this.#size ? this.#lines : this.#lines.subarray(0, n),
      malformed: n === this.#size ? this.#malformed : this.#malformed.subarray(0, n),
    });
    this.#cells = [];
    this.#lines = new Uint32Array(this.#size);
    this.#malformed = new Uint8Array(this.#size);
    this.#n = 0;
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
  readonly headers: readonly string[];
  readonly phoneColumn: number;
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
    phoneColumn: number,
    encoding: UploadEncoding,
    delimiter: string,
    headerLine: number,
    stream: RecordingSource | undefined,
  ) {
    this.file = origin.file;
    this.headers = Object.freeze(headers);
    this.phoneColumn = phoneColumn;
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
    const { file, headers, phoneColumn } = this;
    const { signal, batchSize } = this.#origin.options;
    if (signal?.aborted) throw abortedError(file, signal);
    const source = await this.#open();
    this.#passes++;
    try {
      this.#source = source;
      const batch = new BatchBuilder(batchSize);
      const columns = headers.length;
      let headerSeen = false;
      const splitter = new RowSplitter(
        file,
        this.delimiter,
        (line, fieldCount, cell, fields, overlong) => {
          if (headerSeen) {
            batch.add(cell ?? '', line, fieldCount !== columns || overlong);
            return;
          }
          if (line < this.headerLine) return; // blank by the header search's rule
          // The file is read again from the start: make sure it is still the file we opened.
          if (fields !== undefined && fields.length > 0) fields[0] = stripBom(fields[0]!);
          if (line !== this.headerLine || !sameHeaders(fields ?? [], headers)) {
            throw new InputError(
              { file, line },
              `the file changed since it was opened: the header is now ${showHeaders(fields ?? [])}`,
            );
          }
          headerSeen = true;
          splitter.captureOnly(phoneColumn, MAX_CELL_CHARS);
        },
        MAX_HEADER_CHARS,
      );

      // Skip the byte-order mark (up to 3 bytes; a tiny chunk size may need several reads).
      let head: Uint8Array = new Uint8Array(0);
      while (head.length < 3 && !source.eof) head = concat(head, await source.next());
      const decoder = createChunkDecoder(this.encoding);
      splitter.push(decoder.decode(head.subarray(bomLengthOf(head, this.encoding)), source.eof));
      yield* drain(batch);
      while (!source.eof) {
        const bytes = await source.next();
        splitter.push(decoder.decode(bytes, source.eof));
        yield* drain(batch);
      }
      splitter.end();
      if (!headerSeen) throw emptyFileError(file);
      batch.flush();
      yield* drain(batch);
    } finally {
      await source.close();
    }
  }
}

function* drain(batch: BatchBuilder): Generator<UploadBatch, void, undefined> {
  const ready = batch.ready;
  for (let i = 0; i < ready.length; i++) yield ready[i]!;
  ready.length = 0;
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
