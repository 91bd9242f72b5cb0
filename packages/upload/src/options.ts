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
