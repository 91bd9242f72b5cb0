/** A text encoding an upload can be read in; see `sniffEncoding` for how it is chosen. */
export type UploadEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** Options of `openUpload` and `openUploads`. */
export interface UploadOptions {
  /**
   * The header(s) of the phone column(s), each matched case-insensitively after trimming. Default:
   * detected (every header that names a phone; see `detectPhoneColumns`).
   */
  phoneColumn?: string | readonly string[];
  /**
   * The header of the column holding each row's country (matched as `phoneColumn` is), or `false`
   * for none. Default: detected (`country`, `country code`, `COUNTRY`, `ctry`…), else none.
   */
  countryColumn?: string | false;
  /** The field delimiter, one character (`'tab'` and `'\\t'` mean a tab). Default: detected from the header. */
  delimiter?: string;
  /** Forces the text encoding instead of detecting it; a matching byte-order mark is still skipped. */
  encoding?: UploadEncoding;
  /** Rows per batch; default 8192. Several phone columns make fewer rows a batch (see `batchRows`). */
  batchSize?: number;
  /** Stops reading (and closes the file) when aborted; the read then fails with `ERR_ABORTED`. */
  signal?: AbortSignal;
}

/**
 * A run of consecutive rows. The arrays are parallel and owned by the consumer: a batch is
 * never reused by the reader, so it may be kept or transferred.
 */
export interface UploadBatch {
  /**
   * The raw phone cells (quotes removed, no trimming), row-major: `width` cells per row, where
   * `width` is the reader's `phoneColumns.length` (cell `r * width + c` is row r's column c);
   * `''` when the row has no such cell.
   */
  cells: string[];
  /** The raw country cell of each row (one per row), when the upload has a country column. */
  countries?: string[];
  /** The file the batch's rows come from, when an upload spans several files (a batch never does). */
  file?: string;
  /**
   * The 1-based physical line on which each row starts; for a JSON payload, the row's 1-based
   * position in its `data` list.
   */
  lines: Uint32Array;
  /**
   * 1 when the row's column count differs from the header's (for a payload: the schema's), or
   * one of its phone cells is absurdly long (or, in a payload, neither text nor a whole number),
   * so its phone cells cannot be trusted; 0 otherwise.
   */
  malformed: Uint8Array;
}

/** Anything the join can read phone cells from: an upload file or an in-memory list of cells. */
export interface UploadReader {
  /** The file name used in error messages and reports. */
  readonly file: string;
  /** The header cells, as in the file (a leading byte-order mark removed). */
  readonly headers: readonly string[];
  /** The 0-based index of the (first) phone column in {@link UploadReader.headers}. */
  readonly phoneColumn: number;
  /**
   * The 0-based indexes of every phone column, in header order (at least one). Batches hold
   * `phoneColumns.length` cells per row.
   */
  readonly phoneColumns: readonly number[];
  /** The files the upload reads, in order, when it spans several (a session of payload files). */
  readonly files?: readonly string[];
  /** The 0-based index of the country column; null when there is none. */
  readonly countryColumn: number | null;
  /**
   * Set when the upload itself says its phone cells are SHA-256 digests (a Meta payload whose
   * schema is `PHONE_SHA256`, or whose `PHONE` values are all digests); null otherwise (a CSV
   * never says: digests in a CSV are told by the caller, `--hashed`).
   */
  readonly hashed: 'meta' | 'google' | null;
  /**
   * The 1-based line of the header (later than 1 when blank lines precede it); 0 for a JSON
   * payload, which has no header line (its headers are the schema's keys).
   */
  readonly headerLine: number;
  /** The encoding the file is decoded with; null for in-memory cells (or files read in different ones). */
  readonly encoding: UploadEncoding | null;
  /** The field delimiter; null for in-memory cells and JSON payloads (or files with different ones). */
  readonly delimiter: string | null;
  /** The file's size when opened, in bytes; null for in-memory cells. */
  readonly totalBytes: number | null;
  /** Bytes read so far by the latest {@link UploadReader.batches} pass (for progress); 0 for cells. */
  readonly bytesRead: number;
  /**
   * Streams the rows in batches; each call starts again from the first row. An upload read from a
   * pipe, a FIFO or standard input can be streamed once: a second call throws `ERR_INVALID_ARGUMENT`.
   */
  batches(): AsyncIterable<UploadBatch>;
}

/** An opened upload file: what was detected from its first bytes and header, and its rows. */
export interface UploadFileReader extends UploadReader {
  /**
   * `csv`, or `meta-payload` for a Meta Custom Audience JSON payload (`{"payload": {"schema",
   * "data"}}`), told by its first non-blank character `{`.
   */
  readonly format: 'csv' | 'meta-payload';
  readonly encoding: UploadEncoding;
  /** The field delimiter; null for a JSON payload. */
  readonly delimiter: string | null;
  /** The file's size when opened (compressed, for gzip); null for a pipe or standard input. */
  readonly totalBytes: number | null;
  /** `gzip` when the file was decompressed as it was read (told by its first bytes); else null. */
  readonly compression: 'gzip' | null;
}
