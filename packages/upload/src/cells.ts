import { InvalidArgumentError } from '@rollcall/errors';
import { validBatchSize } from './options.js';
import type { UploadBatch, UploadReader } from './types.js';

/** Options of {@link uploadFromCells}. */
export interface CellsOptions {
  /** The name used in reports and errors; default `<cells>`. */
  file?: string;
  /** Rows per batch; default 8192. */
  batchSize?: number;
}

/**
 * An in-memory upload of phone cells (header `phone`; one phone column, no country column), for library
 * users matching an array rather than a file.
 * Rows are numbered as if under a header line: cell `i` is on line `i + 2`. No row is malformed.
 * The array is read anew by each call of `batches()`.
 */
export function uploadFromCells(cells: readonly string[], options: CellsOptions = {}): UploadReader {
  if (!Array.isArray(cells)) throw new InvalidArgumentError('cells', 'must be an array of strings');
  const batchSize = validBatchSize(options.batchSize);
  const file = options.file ?? '<cells>';
  return {
    file,
    headers: Object.freeze(['phone']),
    phoneColumn: 0,
    phoneColumns: Object.freeze([0]),
    countryColumn: null,
    hashed: null,
    headerLine: 1,
    encoding: null,
    delimiter: null,
    totalBytes: null,
    bytesRead: 0,
    async *batches(): AsyncGenerator<UploadBatch, void, undefined> {
      for (let start = 0; start < cells.length; start += batchSize) {
        const slice = cells.slice(start, start + batchSize);
        const lines = new Uint32Array(slice.length);
        for (let i = 0; i < slice.length; i++) {
          if (typeof slice[i] !== 'string') {
            throw new InvalidArgumentError(
              'cells',
              `item ${start + i} is a ${typeof slice[i]}, not a string`,
            );
          }
          lines[i] = start + i + 2;
        }
        yield { cells: slice, lines, malformed: new Uint8Array(slice.length) };
      }
    },
  };
}
