/**
 * Reading the rows of a source CSV in order, the one reading loop of the build and of a sharded
 * build's routing pass: plain rows take the byte-level fast path (source-row.ts); every other
 * record (the header, quoted cells, blank lines, bad rows) goes through the general CSV parser
 * and the string checks, which word the errors. Good rows are gathered into a {@link RowBatch}
 * that the caller drains: the build places them, the routing pass sends each to its shard.
 */
import { type CsvChunks, checkHeader, INCOMPLETE, type ParsedRecord, parseRecord } from '../csv.js';
import { PLAIN_ROW_MAX_BYTES, PlainRow, readPlainRow } from '../source-row.js';
import { CHECK_EVERY_ROWS, type ResolvedOptions, throwIfAborted } from './options.js';
import {
  checkSourceCells,
  noSourceRowProblems,
  RowProblem,
  SOURCE_COLUMNS,
  SourceCells,
  type SourceRowProblem,
} from './source-rules.js';

/** Good rows read but not yet drained, in source order, as columns of numbers (no object a row). */
export class RowBatch {
  /** Phone keys (E.164 digits as an integer, exact in a float64). */
  readonly keys: Float64Array;
  /** User id bits 0 … 31 and 32 … 63. */
  readonly userLo: Uint32Array;
  readonly userHi: Uint32Array;
  /** 1 when the row says opted out. */
  readonly optedOut: Uint8Array;
  /** Source line of each row (for a duplicate's error). */
  readonly lines: Float64Array;
  /** Rows held. */
  count = 0;

  constructor(readonly capacity: number) {
    this.keys = new Float64Array(capacity);
    this.userLo = new Uint32Array(capacity);
    this.userHi = new Uint32Array(capacity);
    this.optedOut = new Uint8Array(capacity);
    this.lines = new Float64Array(capacity);
  }

  push(key: number, userLo: number, userHi: number, optedOut: boolean, line: number): void {
    const i = this.count++;
    this.keys[i] = key;
    this.userLo[i] = userLo;
    this.userHi[i] = userHi;
    this.optedOut[i] = optedOut ? 1 : 0;
    this.lines[i] = line;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }
}

/**
 * Reads the data rows of `chunks` (the source CSV `csvPath`) in order into `batch`, calling
 * `drain` when the batch is full, before any record that is not a plain row is looked at (so a
 * problem of the earlier rows, such as a duplicate the drain finds, comes before this one's), and
 * at the end. `drain` must leave the batch empty. A bad row fails the read at its line, or with
 * `skipInvalid` is counted and left out. Returns the data rows read and the rows skipped by
 * problem.
 */
export async function readSourceRows(
  csvPath: string,
  chunks: CsvChunks,
  o: ResolvedOptions,
  batch: RowBatch,
  drain: () => Promise<void>,
): Promise<{ rows: number; skipped: Record<SourceRowProblem, number> }> {
  const skipped = noSourceRowProblems();
  const row = new SourceCells();
  const plain = new PlainRow();
  const rec: ParsedRecord = { cells: [], breaks: 0 };
  let rows = 0;
  let line = 1;
  let sawHeader = false;
  const tick = () => {
    if (++rows % CHECK_EVERY_ROWS === 0) {
      throwIfAborted(o.signal);
      o.onProgress?.({ rows, bytesRead: chunks.bytesRead, totalBytes: chunks.totalBytes });
    }
  };
  let p = 0;
  while (await chunks.next(p)) {
    const { buf, end, eof } = chunks;
    p = chunks.start;
    // Plain rows are read only where a whole one fits in what was read (see PLAIN_ROW_MAX_BYTES).
    const plainEnd = end - PLAIN_ROW_MAX_BYTES;
    while (p < end) {
      if (p <= plainEnd && sawHeader) {
        const next = readPlainRow(buf, p, plain);
        if (next >= 0) {
          tick();
          batch.push(plain.key, plain.userLo, plain.userHi, plain.optedOut, line);
          if (batch.full) await drain();
          p = next;
          line++;
          continue;
        }
      }
      // Earlier rows first: a duplicate among them is reported before anything wrong with this one.
      if (batch.count > 0) await drain();
      const next = parseRecord(buf, p, end, eof, csvPath, line, rec);
      if (next === INCOMPLETE) break;
      p = next;
      const at = line;
      line += rec.breaks;
      const cells = rec.cells;
      if (!sawHeader) {
        checkHeader(csvPath, { line: at, cells }, SOURCE_COLUMNS);
        sawHeader = true;
        continue;
      }
      if (cells.length === 0) continue; // A blank line.
      tick();
      const checked = checkSourceCells(cells, row);
      if (checked instanceof RowProblem) {
        if (!o.skipInvalid) throw checked.errorAt(csvPath, at);
        skipped[checked.problem]++;
        continue;
      }
      // Into the (just drained) batch like a plain row: its phone cell is exactly keyToE164(key),
      // strict E.164 having one spelling, so a duplicate's error words it the same either way.
      batch.push(checked, row.halves[0]!, row.halves[1]!, row.optedOut, at);
      if (batch.full) await drain();
    }
    if (eof && p === end) break;
  }
  if (batch.count > 0) await drain();
  if (!sawHeader) checkHeader(csvPath, undefined, SOURCE_COLUMNS);
  return { rows, skipped };
}
