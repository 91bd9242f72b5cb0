/** Building an index in memory from rows given as objects (tests and small jobs). */
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError } from '@rollcall/errors';
import { parseE164Strict } from '@rollcall/phone';
import { readerOfImage } from '../reader.js';
import type { IndexReader } from '../types.js';
import { type BuildReport, exactImage, ImageBuilder, makeReport } from './image-builder.js';
import { type BuildOptions, resolveOptions } from './options.js';
import {
  checkRow,
  DuplicatePhoneError,
  type IndexRow,
  noSourceRowProblems,
  ROWS_SOURCE,
  RowProblem,
} from './source-rules.js';

/**
 * Builds an index in memory from rows (for tests and small jobs). Bad rows throw `InputError`
 * whose position is `{ file: '<rows>', line: row number (1-based), column }`, or are skipped
 * with `skipInvalid`. Returns the reader over the same image a file would hold, and the report.
 */
export async function buildIndexFromRows(
  rows: Iterable<IndexRow>,
  options?: BuildOptions,
): Promise<{ reader: IndexReader; report: BuildReport }> {
  const started = performance.now();
  const o = resolveOptions(options);
  if (rows === null || typeof (rows as Iterable<IndexRow>)?.[Symbol.iterator] !== 'function') {
    throw new InvalidArgumentError('rows', 'must be an iterable of { phone, userId, optedOut }');
  }
  // Materialised once: the table is sized from the row count before any row goes in.
  const list = Array.isArray(rows) ? (rows as readonly IndexRow[]) : Array.from(rows);
  const builder = new ImageBuilder(list.length, o, ROWS_SOURCE);
  try {
    const skipped = noSourceRowProblems();
    const halves = new Uint32Array(2);
    for (let i = 0; i < list.length; i++) {
      const row = list[i]!;
      const checked = checkRow(row, halves);
      if (checked instanceof RowProblem) {
        if (!o.skipInvalid) throw checked.errorAt(ROWS_SOURCE, i + 1);
        skipped[checked.problem]++;
        continue;
      }
      if (builder.add(checked, halves[0]!, halves[1]!, row.optedOut) >= 0) {
        if (!o.skipInvalid) {
          const first = list.findIndex((r) => parseE164Strict(r.phone) === checked);
          throw new DuplicatePhoneError({ file: ROWS_SOURCE, line: i + 1, column: 1 }, first + 1, row.phone);
        }
        skipped.DUPLICATE_PHONE++;
      }
    }
    const { image, raw } = await builder.finish();
    const report = makeReport(
      ROWS_SOURCE,
      list.length,
      skipped,
      raw,
      builder.optedOutUsers.size,
      builder.validityThreads,
      started,
    );
    return { reader: readerOfImage(exactImage(image, raw.fileBytes), raw), report };
  } finally {
    await builder.close();
  }
}
