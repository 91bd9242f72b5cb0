/** A text encoding an upload can be read in; see `sniffEncoding` for how it is chosen. */
export type UploadEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** Options of {@link openUpload}. */
export interface UploadOptions {
  /** The header of the phone column, matched case-insensitively after trimming. Default: detected. */
  phoneColumn?: string;
  /** The field delimiter, one character (`'tab'` and `'\\t'` mean a tab). Default: detected from the header. */
  delimiter?: string;
  /** Forces the text encoding instead of detecting it; a matching byte-order mark is still skipped. */
  encoding?: UploadEncoding;
  /** Rows per batch; default 8192. */
  batchSize?: number;
  /** Stops reading (and closes the file) when aborted; the read then fails with `ERR_ABORTED`. */
  signal?: AbortSignal;
}

/**
 * A run of consecutive rows. The arrays are parallel and owned by the consumer: a batch is
 * never reused by the reader, so it may be kept or transferred.
 */
export interface UploadBatch {
  /** The raw phone cell of each row (quotes removed, no trimming); `''` when the row has no such cell. */
  cells: string[];
  /** The 1-based physical line on which each row starts. */
  lines: Uint32Array;
  /**
   * 1 when the row's column count differs from the header's (or its phone cell is absurdly
   * long), so its phone cell cannot be trusted; 0 otherwise.
   */
  malformed: Uint8Array;
}

/** Anything the join can read phone cells from: an upload file or an in-memory list of cells. */
export interface UploadReader {
  /** The file name used in error messages and reports. */
  readonly file: string;
  /** The header cells, as in the file (a leading byte-order mark removed). */
  readonly headers: readonly string[];
  /** The 0-based index of the phone column in {@link UploadReader.headers}. */
  readonly phoneColumn: number;
  /** The 1-based line of the header (later than 1 when blank lines precede it). */
  readonly headerLine: number;
  /** The encoding the file is decoded with; null for in-memory cells. */
  readonly encoding: UploadEncoding | null;
  /** The field delimiter; null for in-memory cells. */
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
  readonly encoding: UploadEncoding;
  readonly delimiter: string;
  /** The file's size when opened (compressed, for gzip); null for a pipe or standard input. */
  readonly totalBytes: number | null;
  /** `gzip` when the file was decompressed as it was read (told by its first bytes); else null. */
  readonly compression: 'gzip' | null;
}
