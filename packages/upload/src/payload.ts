/**
 * Meta's Custom Audience payload as an upload file: the JSON body of the Marketing API's
 * `POST /{custom_audience_id}/users`, `{"payload": {"schema": …, "data": […]}}` (other top-level
 * fields, such as `session`, ignored), or the bare `{"schema": …, "data": […]}`.
 *
 * - A single-key schema is a string (`"PHONE_SHA256"`, `"EMAIL_SHA256"`); each `data` item is
 *   then a value or a one-element list.
 * - A multi-key schema is a list of keys (`["EMAIL", "PHONE", "COUNTRY"]`); each `data` item is
 *   a list of as many values. A row of another length is malformed.
 *
 * The schema keys are the upload's headers and go through the same column detection as a CSV's
 * (`detectColumns`): `PHONE` and `PHONE_SHA256` (each, when repeated) are phone columns,
 * `COUNTRY` the country column, every other key is ignored. Meta wants `PHONE` hashed (SHA-256
 * hex of the digits with the country code, no `+`): the reader says `hashed: 'meta'` when a phone
 * key is `PHONE_SHA256`, or when every non-empty phone value is 64 hex digits.
 *
 * The file is read whole (it is one JSON document), at most {@link MAX_PAYLOAD_BYTES} of text:
 * when opened (to learn its schema and whether it is hashed), then again by each pass of
 * `batches()`, so that the rows of many files opened together are never all in memory at once
 * (a pipe is read once: its rows are kept from opening for its one pass).
 */
import { ErrorCodes, InputError, RollcallError } from '@rollcall/errors';
import { BatchBuilder, MAX_COUNTRY_CHARS } from './batch.js';
import { detectColumns } from './columns.js';
import { bomLengthOf, type ChunkDecoder, createChunkDecoder } from './encoding.js';
import { parseJson } from './json.js';
import { MAX_CELL_CHARS, type ValidOptions } from './options.js';
import { showHeaders } from './redact.js';
import { abortedError, type ByteSource, type Compression } from './source.js';
import type { UploadBatch, UploadEncoding, UploadFileReader } from './types.js';

/**
 * The largest payload read, in bytes of (decompressed) text. Meta takes 10,000 rows a request,
 * a few MiB; this is far more, and bounds the memory of one file read whole.
 */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** A SHA-256 digest in hex. */
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** True when the first character of `text` other than JSON whitespace is `{`. */
export function isPayloadStart(text: string): boolean {
  return /^[ \t\r\n]*\{/.test(text);
}

/** What the opener read before telling the file is a payload, and how to read it again. */
export interface PayloadStart {
  /** The name in errors and reports. */
  file: string;
  /** The decompressed bytes, positioned just after what `text` was decoded from. */
  source: ByteSource;
  decoder: ChunkDecoder;
  /** The text decoded so far (byte-order mark skipped). */
  text: string;
  /** Decompressed bytes read so far. */
  consumed: number;
  encoding: UploadEncoding;
  kind: 'file' | 'stream';
  totalBytes: number | null;
  compression: Compression;
  options: ValidOptions;
  /** The size cap: {@link MAX_PAYLOAD_BYTES}. */
  maxBytes: number;
  /** The file's bytes from its start again (decompressed), for a later pass. */
  reopen: () => Promise<ByteSource>;
}

/** A payload's schema keys and its data rows. */
interface Payload {
  keys: string[];
  rows: readonly unknown[];
}

/**
 * Reads the payload that `start` began, finds its columns, and returns its reader (the source is
 * left to the caller to close). Throws `ERR_BAD_INPUT` naming the file when it is too large, is
 * not valid JSON (with the line and column), or is not a payload; column errors as for a CSV.
 */
export async function openPayload(start: PayloadStart): Promise<UploadFileReader> {
  const { file, options } = start;
  const text = await readRest(start.source, start.decoder, start.text, start.consumed, start.maxBytes, file);
  const payload = payloadOf(parseJson(text, file), file);
  const columns = detectColumns(payload.keys, {
    phoneColumn: options.phoneColumn,
    countryColumn: options.countryColumn,
    file,
    line: null,
  });
  const hashed = hashedness(payload, columns.phoneColumns);
  return new PayloadUpload(
    start,
    payload,
    columns.phoneColumns,
    columns.countryColumn,
    hashed,
    start.source.bytesRead,
  );
}

/** Reads `source` to its end after `text`, refusing more than `maxBytes` (decompressed). */
async function readRest(
  source: ByteSource,
  decoder: ChunkDecoder,
  text: string,
  consumed: number,
  maxBytes: number,
  file: string,
): Promise<string> {
  const parts = [text];
  let bytes = consumed;
  for (;;) {
    if (bytes > maxBytes) {
      throw new InputError(
        { file },
        `is a JSON payload larger than ${formatSize(maxBytes)}; split its rows over several files of ` +
          'one upload session (Meta takes 10,000 rows a request)',
      );
    }
    if (source.eof) break;
    const chunk = await source.next();
    bytes += chunk.length;
    parts.push(decoder.decode(chunk, source.eof));
  }
  return parts.join('');
}

function formatSize(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

const SHAPE =
  'a JSON upload must be a Meta Custom Audience payload: {"payload": {"schema": ["PHONE", …], "data": [[…], …]}} ' +
  'or {"schema": "PHONE_SHA256", "data": ["…", …]}';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The schema keys and data rows of a parsed payload; `ERR_BAD_INPUT` when it has another shape. */
function payloadOf(value: unknown, file: string): Payload {
  if (!isObject(value)) throw new InputError({ file }, SHAPE);
  const body = Object.hasOwn(value, 'payload') ? value.payload : value;
  if (!isObject(body) || !Object.hasOwn(body, 'schema') || !Object.hasOwn(body, 'data')) {
    throw new InputError({ file }, `${SHAPE}; this one has no "schema" and "data"`);
  }
  const { schema, data } = body;
  let keys: string[];
  if (typeof schema === 'string' && schema.trim() !== '') keys = [schema];
  else if (
    Array.isArray(schema) &&
    schema.length > 0 &&
    schema.every((k): k is string => typeof k === 'string' && k.trim() !== '')
  ) {
    keys = [...schema];
  } else {
    throw new InputError(
      { file },
      `"schema" must be a key such as "PHONE_SHA256", or a non-empty list of keys such as ["PHONE", "COUNTRY"]`,
    );
  }
  if (!Array.isArray(data)) throw new InputError({ file }, '"data" must be a list of rows');
  return { keys, rows: data };
}

/** A row's values, one per key; undefined when the row has another shape (malformed). */
function rowValues(item: unknown, width: number): readonly unknown[] | undefined {
  if (Array.isArray(item)) return item.length === width ? item : undefined;
  // A single-key schema's rows may be bare values.
  return width === 1 ? [item] : undefined;
}

/**
 * A phone value as a cell: text as it is, null as `''`, a whole number (a spreadsheet's way with
 * digits) as its digits; undefined for anything else (the row is malformed).
 */
function phoneCell(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}

/** A country value as a cell, cut at {@link MAX_COUNTRY_CHARS}; undefined for a list or an object. */
function countryCell(value: unknown): string | undefined {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return undefined;
  return String(value).slice(0, MAX_COUNTRY_CHARS);
}

/** `'meta'` when a phone key is `PHONE_SHA256`, or every non-empty phone value is a digest (at least one). */
function hashedness(payload: Payload, phoneColumns: readonly number[]): 'meta' | null {
  if (phoneColumns.some((c) => payload.keys[c]!.trim().toUpperCase() === 'PHONE_SHA256')) return 'meta';
  const width = payload.keys.length;
  let digests = 0;
  for (const item of payload.rows) {
    const values = rowValues(item, width);
    if (values === undefined) continue;
    for (const c of phoneColumns) {
      const v = values[c];
      if (typeof v === 'string') {
        const t = v.trim();
        if (t === '') continue;
        if (!SHA256_HEX.test(t)) return null;
        digests++;
      } else if (v !== null && v !== undefined) {
        return null;
      }
    }
  }
  return digests > 0 ? 'meta' : null;
}

class PayloadUpload implements UploadFileReader {
  readonly file: string;
  readonly format = 'meta-payload';
  readonly headers: readonly string[];
  readonly phoneColumn: number;
  readonly phoneColumns: readonly number[];
  readonly countryColumn: number | null;
  readonly hashed: 'meta' | null;
  readonly headerLine = 0;
  readonly encoding: UploadEncoding;
  readonly delimiter = null;
  readonly totalBytes: number | null;
  readonly compression: Compression;
  readonly #start: PayloadStart;
  /** A stream's rows, kept for the one pass it allows (a file is read again by each pass). */
  #kept: Payload | undefined;
  #passes = 0;
  /** Bytes of the file the latest pass read, and the share of its rows given out so far. */
  #fileBytes: number;
  #done = 0;
  #rows = 0;
  #finished = false;

  constructor(
    start: PayloadStart,
    payload: Payload,
    phoneColumns: readonly number[],
    countryColumn: number | null,
    hashed: 'meta' | null,
    fileBytes: number,
  ) {
    this.file = start.file;
    this.headers = Object.freeze([...payload.keys]);
    this.phoneColumn = phoneColumns[0]!;
    this.phoneColumns = Object.freeze([...phoneColumns]);
    this.countryColumn = countryColumn;
    this.hashed = hashed;
    this.encoding = start.encoding;
    this.totalBytes = start.totalBytes;
    this.compression = start.compression;
    this.#start = start;
    this.#kept = start.kind === 'stream' ? payload : undefined;
    this.#fileBytes = fileBytes;
  }

  /** The file is read whole before its first row is given out: counted in step with the rows given out. */
  get bytesRead(): number {
    if (this.#finished) return this.#fileBytes;
    return this.#rows === 0 ? 0 : Math.round((this.#fileBytes * this.#done) / this.#rows);
  }

  /** The payload of a new pass: the stream's, kept from opening, or the file read again. */
  async #payload(): Promise<Payload> {
    const { file, kind } = this.#start;
    if (kind === 'stream') {
      const kept = this.#kept;
      this.#kept = undefined;
      if (kept === undefined || this.#passes > 0) {
        throw new RollcallError(
          ErrorCodes.INVALID_ARGUMENT,
          `${file}: a pipe or standard input can be read only once; batches() was called again`,
        );
      }
      return kept;
    }
    const source = await this.#start.reopen();
    try {
      // Skip the byte-order mark (up to 3 bytes; a tiny chunk size may need several reads).
      let head: Uint8Array = new Uint8Array(0);
      while (head.length < 3 && !source.eof) head = Buffer.concat([head, await source.next()]);
      const decoder = createChunkDecoder(this.encoding);
      const first = decoder.decode(head.subarray(bomLengthOf(head, this.encoding)), source.eof);
      const text = await readRest(source, decoder, first, head.length, this.#start.maxBytes, file);
      const payload = payloadOf(parseJson(text, file), file);
      if (!sameKeys(payload.keys, this.headers)) {
        throw new InputError(
          { file },
          `the file changed since it was opened: the schema is now ${showHeaders(payload.keys)}`,
        );
      }
      this.#fileBytes = source.bytesRead;
      return payload;
    } finally {
      await source.close();
    }
  }

  async *batches(): AsyncGenerator<UploadBatch, void, undefined> {
    const { file, phoneColumns, countryColumn } = this;
    const { signal, batchSize } = this.#start.options;
    if (signal?.aborted) throw abortedError(file, signal);
    this.#done = 0;
    this.#rows = 0;
    this.#finished = false;
    const payload = await this.#payload();
    this.#passes++;
    const rows = payload.rows;
    this.#rows = rows.length;
    const keys = payload.keys.length;
    const width = phoneColumns.length;
    const batch = new BatchBuilder(batchSize, width, countryColumn !== null);
    const row: (string | undefined)[] = new Array(width + (countryColumn === null ? 0 : 1)).fill(undefined);
    for (let r = 0; r < rows.length; r++) {
      const values = rowValues(rows[r], keys);
      let malformed = values === undefined;
      if (values !== undefined) {
        for (let c = 0; c < width; c++) {
          let cell = phoneCell(values[phoneColumns[c]!]);
          if (cell === undefined) {
            malformed = true;
            cell = '';
          } else if (cell.length > MAX_CELL_CHARS) {
            malformed = true;
            cell = cell.slice(0, MAX_CELL_CHARS);
          }
          row[c] = cell;
        }
        if (countryColumn !== null) {
          const cell = countryCell(values[countryColumn]);
          if (cell === undefined) malformed = true;
          row[width] = cell ?? '';
        }
      } else {
        row.fill('');
      }
      batch.add(row, r + 1, malformed);
      if (batch.ready.length > 0) {
        this.#done = r + 1;
        if (signal?.aborted) throw abortedError(file, signal);
        yield* batch.drain();
      }
    }
    batch.flush();
    this.#done = rows.length;
    this.#finished = true;
    yield* batch.drain();
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}
