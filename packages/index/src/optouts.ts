/**
 * Daily opt-out changes applied to a built index (`rollcall index optout`): `phone,opted_out` rows,
 * applied as the `optout` and `optin` rows of an `index update` (update.ts), which sets the
 * numbers' own opted-out bits, settles their users' bits (an opt-out is the person's: see
 * user-optouts.ts), advances the generation, logs the users whose eligibility changed, and
 * replaces the files atomically, holding the index's update lock (lock.ts) throughout.
 */
import { performance } from 'node:perf_hooks';
import { InputError } from '@rollcall/errors';
import { type PhoneKey, parseE164Strict, redactPhone } from '@rollcall/phone';
import { ChangeSet, OP } from './changes.js';
import { csvDataRecords, parseOptedOut } from './csv.js';
import type { IndexLockHolder } from './lock.js';
import { applyChangeSet, checkChangeArgs } from './update.js';

/** Columns of an opt-out changes CSV, in order. */
export const OPT_OUT_COLUMNS = ['phone', 'opted_out'] as const;

/** Options of {@link applyOptOuts}: how long to wait for another update of the same index. */
export interface OptOutOptions {
  /** Give up after this many ms if another update holds the index (ERR_IO). Default 30 minutes. */
  lockWaitMs?: number;
  /** A lock not refreshed for this many ms is broken as stale. Default 10 minutes. */
  lockStaleMs?: number;
  /** Called once if the run has to wait for another update's lock. */
  onLockWait?: (holder: IndexLockHolder | undefined) => void;
}

/** What {@link applyOptOuts} did. */
export interface OptOutReport {
  /** The index as given: a file, or one shard file of a sharded index. */
  index: string;
  /** Every file of the index, in shard order (one for an unsharded index). */
  files: string[];
  /** The changes CSV read. */
  changes: string;
  /** Data rows read (header and blank lines not counted). */
  rows: number;
  /** Rows that flipped a number's own opted-out flag. */
  changed: number;
  /** Rows whose number already had that flag. */
  unchanged: number;
  /** Rows whose phone the index does not hold. */
  notInIndex: number;
  /** Users now opted out who were not (one of their numbers was opted out). */
  usersOptedOut: number;
  /** Users back in: the last of their opted-out numbers was opted back in. */
  usersOptedIn: number;
  /**
   * Entries (numbers, not users) opted out after the update, in all files: every number of every
   * user opted out on any of their numbers. The sum of the files' header counts.
   */
  optedOut: number;
  /** False when nothing changed: every file is then left as it was, byte for byte. */
  written: boolean;
  /** The files rewritten. */
  filesWritten: string[];
  durationMs: number;
}

/** The checked rows of a changes CSV, in order. */
interface Changes {
  keys: PhoneKey[];
  flags: boolean[];
}

/** Reads and checks every row of a changes CSV; a bad row throws `InputError` at its line and column. */
async function readChanges(path: string): Promise<Changes> {
  const keys: PhoneKey[] = [];
  const flags: boolean[] = [];
  for await (const rec of csvDataRecords(path, OPT_OUT_COLUMNS)) {
    const cells = rec.cells;
    const at = (column: number) => ({ file: path, line: rec.line, column });
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
    keys.push(key);
    flags.push(flag);
  }
  return { keys, flags };
}

/**
 * Applies `phone,opted_out` rows to a built index. A row sets its number's own flag; rows apply in
 * order (a phone listed twice ends with its last value). An opt-out is the person's: afterwards
 * every number of a user is opted out exactly when at least one of the user's numbers is, so
 * opting one number out drops the user from every audience, and opting a number back in restores
 * the user only once none of their numbers is opted out. A user's numbers may sit in any shard, so
 * a sharded index is updated as a whole: give one shard file (its siblings are found by the names
 * `index build --shards` gave them) or the list of all shard files.
 *
 * Every row is checked before anything is read or written: a bad row throws `InputError` at its
 * line and column and leaves the index untouched. The run holds the update lock of every file
 * (waiting for another update of the same index, see {@link OptOutOptions}), so concurrent runs
 * never lose each other's changes. Each new file is written beside the old one and renamed over it
 * at the end, so a reader sees a whole index, old or new; the header's opted-out count, update time
 * and both checksums are recomputed. Files are verified (checksums) on load, so a corrupt index is
 * never rewritten with fresh checksums. Applying the same changes again is harmless, and repairs
 * the users of those rows if a run was cut short between the renames of a sharded index.
 *
 * Each run that changes anything advances the index's generation and logs the users it opted out
 * or back in, for `audience refresh` (see `applyChanges`, whose `optout` and `optin` rows these
 * rows are, and whose costs these are).
 */
export async function applyOptOuts(
  index: string | readonly string[],
  changesCsvPath: string,
  options: OptOutOptions = {},
): Promise<OptOutReport> {
  const started = performance.now();
  checkChangeArgs(index, changesCsvPath);
  const changes = await readChanges(changesCsvPath);
  const set = new ChangeSet(changesCsvPath, changes.keys.length);
  changes.keys.forEach((key, row) => {
    set.push(changes.flags[row] ? OP.OPTOUT : OP.OPTIN, key, 0, 0);
  });
  set.rows = changes.keys.length;
  const r = await applyChangeSet(index, set, options, started);
  return {
    index: r.index,
    files: r.files,
    changes: changesCsvPath,
    rows: r.rows,
    changed: r.optedOutNumbers + r.optedInNumbers,
    unchanged: r.unchanged,
    notInIndex: r.notInIndex,
    usersOptedOut: r.usersOptedOut,
    usersOptedIn: r.usersOptedIn,
    optedOut: r.optedOut,
    written: r.written,
    filesWritten: r.filesWritten,
    durationMs: performance.now() - started,
  };
}
