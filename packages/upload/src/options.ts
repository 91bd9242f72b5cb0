import { InvalidArgumentError } from '@rollcall/errors';
import type { UploadEncoding, UploadOptions } from './types.js';

/** Rows per batch unless {@link UploadOptions.batchSize} says otherwise. */
export const DEFAULT_BATCH_SIZE = 8192;
/** The largest accepted batch size (a batch is allocated whole). */
export const MAX_BATCH_SIZE = 1 << 24;
/** A header line longer than this (characters) is refused: no header is, and it bounds memory. */
export const MAX_HEADER_CHARS = 1 << 20;
/**
 * Phone cells are cut at this many characters and their row flagged malformed. Far above any
 * phone spelling (libphonenumber refuses input over 250 characters) or hash, so nothing valid is
 * cut, and a cut cell can never be mistaken for a valid number.
 */
export const MAX_CELL_CHARS = 1024;

const ENCODINGS: readonly UploadEncoding[] = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'];

/** The options of `openUpload`, checked. */
export interface ValidOptions {
  phoneColumn: string | readonly string[] | undefined;
  countryColumn: string | false | undefined;
  delimiter: string | undefined;
  encoding: UploadEncoding | undefined;
  batchSize: number;
  signal: AbortSignal | undefined;
}

/**
 * Rows per batch of an upload with `width` phone cells a row, for a (valid) batch size: `batchSize`
 * rows, but no more phone cells than `batchSize` or {@link DEFAULT_BATCH_SIZE}, whichever is more
 * (at least one row). A worker's cost is a batch's cells, not its rows: a row of three phone
 * columns is three numbers to normalise. And 8,192 such rows (24,576 cells) are past 16,382
 * elements, V8's large-object size for an array (128 KiB of pointers): while a large array holds
 * young strings, every young-generation collection costs several times as much, in the reader that
 * gathers the cells and in the worker that receives and normalises them. Measured on 1M numbers
 * normalised as a worker does: about 10 ms a scavenge instead of 1.5 (2.3x the GC time in all),
 * the same cliff for one column at 16,500 rows; and the whole match of three columns went from
 * 0.86-1.01x the numbers/s of one column to 1.22-1.25x (bench/join, 5 alternating rounds).
 * One column is never cut, nor a small batch size (tests and fault injection place rows by it).
 */
export function batchRows(batchSize: number, width: number): number {
  const cells = Math.max(batchSize, DEFAULT_BATCH_SIZE);
  return Math.min(batchSize, Math.max(1, Math.floor(cells / width)));
}

/** Checks the batch size option; throws `ERR_INVALID_ARGUMENT` naming `batchSize`. */
export function validBatchSize(batchSize: number | undefined): number {
  const size = batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) {
    throw new InvalidArgumentError('batchSize', `must be an integer from 1 to ${MAX_BATCH_SIZE}`);
  }
  return size;
}

/** Checks the options of `openUpload`; throws `ERR_INVALID_ARGUMENT` naming the bad one. */
export function validateOptions(options: UploadOptions): ValidOptions {
  const { phoneColumn, countryColumn, encoding, signal } = options;
  let { delimiter } = options;
  const batchSize = validBatchSize(options.batchSize);
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
  if (
    phoneColumn !== undefined &&
    typeof phoneColumn !== 'string' &&
    !(Array.isArray(phoneColumn) && phoneColumn.length > 0 && phoneColumn.every((h) => typeof h === 'string'))
  ) {
    throw new InvalidArgumentError(
      'phoneColumn',
      'must be a header name or a non-empty list of header names',
    );
  }
  if (countryColumn !== undefined && countryColumn !== false && typeof countryColumn !== 'string') {
    throw new InvalidArgumentError('countryColumn', 'must be a header name, or false for none');
  }
  return { phoneColumn, countryColumn, delimiter, encoding, batchSize, signal };
}
