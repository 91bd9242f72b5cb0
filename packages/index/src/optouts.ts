/**
 * Daily opt-out changes applied to a built index: flips the opted-out bits, recomputes the
 * checksums and replaces the file atomically.
 */
import { performance } from 'node:perf_hooks';
import { InputError, InvalidArgumentError } from '@rollcall/errors';
import { AtomicFile } from '@rollcall/files';
import { parseE164Strict, redactPhone } from '@rollcall/phone';
import { writeImage } from './build.js';
import { checksumRange } from './checksum.js';
import { checkHeader, csvRecords, parseOptedOut } from './csv.js';
import { sealHeader, writeOptOutFields } from './header.js';
import { HEADER_BYTES, SLOT_WORDS, TWO_POW_32 } from './layout.js';
import { loadImage } from './load.js';
import { findSlot, setOptedOut } from './table.js';

/** Columns of an opt-out changes CSV, in order. */
export const OPT_OUT_COLUMNS = ['phone', 'opted_out'] as const;

/** What {@link applyOptOuts} did. */
export interface OptOutReport {
  /** The index file updated. */
  index: string;
  /** The changes CSV read. */
  changes: string;
  /** Data rows read (header and blank lines not counted). */
  rows: number;
  /** Rows that flipped an entry's flag. */
  changed: number;
  /** Rows whose entry already had that flag. */
  unchanged: number;
  /** Rows whose phone the index does not hold. */
  notInIndex: number;
  /** Entries opted out after the update. */
  optedOut: number;
  /** False when nothing changed: the file is then left as it was, byte for byte. */
  written: boolean;
  durationMs: number;
}

/**
 * Applies `phone,opted_out` rows to a built index. Rows apply in order (a phone listed twice
 * ends with its last value). Every row is checked before anything is written: a bad row throws
 * `InputError` at its line and column and leaves the index untouched. The new file is written
 * beside the old one and renamed over it, so a reader sees either the old or the new index, never
 * a mix; the header's opted-out count, update time and both checksums are recomputed. The index
 * is verified (checksum) on load, so a corrupt index is never rewritten with fresh checksums.
 */
export async function applyOptOuts(indexPath: string, changesCsvPath: string): Promise<OptOutReport> {
  const started = performance.now();
  if (typeof indexPath !== 'string' || indexPath === '')
    throw new InvalidArgumentError('indexPath', 'must be a file path');
  if (typeof changesCsvPath !== 'string' || changesCsvPath === '') {
    throw new InvalidArgumentError('changesCsvPath', 'must be a file path');
  }
  const { image, raw } = await loadImage(indexPath, true);
  const table = new Uint32Array(image, raw.tableOffset, raw.capacity * SLOT_WORDS);
  let rows = 0;
  let changed = 0;
  let unchanged = 0;
  let notInIndex = 0;
  let optedOut = raw.optedOut;
  let sawHeader = false;
  for await (const rec of csvRecords(changesCsvPath)) {
    if (!sawHeader) {
      checkHeader(changesCsvPath, rec, OPT_OUT_COLUMNS);
      sawHeader = true;
      continue;
    }
    const cells = rec.cells;
    if (cells.length === 0) continue;
    rows++;
    const at = (column: number) => ({ file: changesCsvPath, line: rec.line, column });
    if (cells.length !== OPT_OUT_COLUMNS.length) {
      throw new InputError(
        at(Math.min(cells.length, OPT_OUT_COLUMNS.length) + 1),
        `expected ${OPT_OUT_COLUMNS.length} cells (${OPT_OUT_COLUMNS.join(',')}), got ${cells.length}`,
      );
    }
    const key = parseE164Strict(cells[0]!);
    if (key === undefined) throw new InputError(at(1), `phone "${redactPhone(cells[0]!)}" is not E.164`);
    const flag = parseOptedOut(cells[1]!);
    if (flag === undefined)
      throw new InputError(at(2), `opted_out "${cells[1]}" is not true/false, 1/0 or yes/no`);
    const lo = key >>> 0;
    const slot = findSlot(table, raw.capacity, raw.hashSeed, lo, (key - lo) / TWO_POW_32);
    if (slot < 0) notInIndex++;
    else if (setOptedOut(table, slot, flag)) {
      changed++;
      optedOut += flag ? 1 : -1;
    } else unchanged++;
  }
  if (!sawHeader) checkHeader(changesCsvPath, undefined, OPT_OUT_COLUMNS);
  const report = {
    index: indexPath,
    changes: changesCsvPath,
    rows,
    changed,
    unchanged,
    notInIndex,
    optedOut,
  };
  // Nothing changed: the file stays byte for byte (no new update time, no rewrite).
  if (changed === 0) {
    return { ...report, written: false, durationMs: performance.now() - started };
  }
  const header = new Uint8Array(image, 0, HEADER_BYTES);
  writeOptOutFields(header, optedOut, Date.now());
  await sealHeader(header, await checksumRange(image, HEADER_BYTES, raw.fileBytes));
  const out = new AtomicFile(indexPath);
  try {
    writeImage(out, image, raw.fileBytes);
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
  return { ...report, written: true, durationMs: performance.now() - started };
}
