/**
 * A day of changes to an index, `op,phone,user_id` rows, read and checked before anything is
 * applied: a bad row refuses the whole set at its file, line and column (or, with `skipInvalid`,
 * is counted by kind and left out).
 */
import { InputError } from '@rollcall/errors';
import { type PhoneKey, parseE164Strict, redactPhone } from '@rollcall/phone';
import { type CsvRecord, CsvRecordCursor, checkHeader } from './csv.js';
import { readUserIdHalves } from './user-id.js';

/** Columns of a changes CSV, in order. */
export const CHANGE_COLUMNS = ['op', 'phone', 'user_id'] as const;

/**
 * What a row does:
 * - `add`: the number is the user's (`user_id`): a number new to the index, or one that moves to
 *   another user (the old user loses it; the number starts with no opt-out of its own).
 * - `delete`: the number leaves the index.
 * - `optout`: the number's own opted-out flag is set (its user is out, on every number).
 * - `optin`: the number's own flag is cleared (its user is back once none of their numbers is out).
 */
export const CHANGE_OPS = ['add', 'delete', 'optout', 'optin'] as const;

/** One of {@link CHANGE_OPS}. */
export type ChangeOp = (typeof CHANGE_OPS)[number];

/** Codes of the ops in a {@link ChangeSet} (0 is no op). */
export const OP = { ADD: 1, DELETE: 2, OPTOUT: 3, OPTIN: 4 } as const;

const OP_CODES: Readonly<Record<string, number>> = {
  add: OP.ADD,
  delete: OP.DELETE,
  optout: OP.OPTOUT,
  optin: OP.OPTIN,
};

/**
 * Why a change row was refused. Stable codes: `--skip-invalid` reports count by them.
 * - `BAD_OP`: not one of add, delete, optout, optin.
 * - `BAD_PHONE`: not strict E.164.
 * - `BAD_USER_ID`: an `add` without a user id from 1 to 2^64 − 1.
 * - `UNEXPECTED_USER_ID`: a `delete`, `optout` or `optin` with a user id (they name a number only).
 * - `WRONG_COLUMN_COUNT`: not three cells (two are enough for the ops without a user id).
 */
export const CHANGE_ROW_PROBLEMS = [
  'BAD_OP',
  'BAD_PHONE',
  'BAD_USER_ID',
  'UNEXPECTED_USER_ID',
  'WRONG_COLUMN_COUNT',
] as const;

/** One of {@link CHANGE_ROW_PROBLEMS}. */
export type ChangeRowProblem = (typeof CHANGE_ROW_PROBLEMS)[number];

/** Counts by problem, all zero. */
export function noChangeProblems(): Record<ChangeRowProblem, number> {
  return { BAD_OP: 0, BAD_PHONE: 0, BAD_USER_ID: 0, UNEXPECTED_USER_ID: 0, WRONG_COLUMN_COUNT: 0 };
}

/** The checked rows of a change set, in order, as columns of typed arrays (1M rows ≈ 17 MB). */
export class ChangeSet {
  /** The file (or source) the rows came from, for reports. */
  readonly source: string;
  /** Rows kept. */
  count = 0;
  ops: Uint8Array;
  keys: Float64Array;
  /** User id halves (add rows only; 0 elsewhere). */
  userLo: Uint32Array;
  userHi: Uint32Array;
  /** Data rows read (header and blank lines not counted), kept or skipped. */
  rows = 0;
  readonly skipped = noChangeProblems();

  constructor(source: string, expected = 1024) {
    this.source = source;
    const n = Math.max(16, expected);
    this.ops = new Uint8Array(n);
    this.keys = new Float64Array(n);
    this.userLo = new Uint32Array(n);
    this.userHi = new Uint32Array(n);
  }

  /** Rows skipped (all kinds). */
  get skippedRows(): number {
    return Object.values(this.skipped).reduce((a, b) => a + b, 0);
  }

  push(op: number, key: PhoneKey, userLo: number, userHi: number): void {
    if (this.count === this.ops.length) this.#grow();
    const i = this.count++;
    this.ops[i] = op;
    this.keys[i] = key;
    this.userLo[i] = userLo;
    this.userHi[i] = userHi;
  }

  #grow(): void {
    const n = this.ops.length * 2;
    const grow = <T extends Uint8Array | Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a as never);
      return b;
    };
    this.ops = grow(this.ops, (k) => new Uint8Array(k));
    this.keys = grow(this.keys, (k) => new Float64Array(k));
    this.userLo = grow(this.userLo, (k) => new Uint32Array(k));
    this.userHi = grow(this.userHi, (k) => new Uint32Array(k));
  }
}

/** An op cell as a message may show it: only when it looks like a word, never a number. */
function shownOp(cell: string): string {
  return /^[A-Za-z_-]{1,16}$/.test(cell.trim()) ? ` "${cell.trim()}"` : '';
}

/** Checks change records one at a time (header first) into a {@link ChangeSet}. */
class ChangeRowChecker {
  readonly set: ChangeSet;
  readonly #file: string;
  readonly #skipInvalid: boolean;
  readonly #halves = new Uint32Array(2);
  #sawHeader = false;

  constructor(file: string, skipInvalid: boolean, expected?: number) {
    this.set = new ChangeSet(file, expected);
    this.#file = file;
    this.#skipInvalid = skipInvalid;
  }

  record(rec: CsvRecord): void {
    const file = this.#file;
    const set = this.set;
    if (!this.#sawHeader) {
      checkHeader(file, rec, CHANGE_COLUMNS);
      this.#sawHeader = true;
      return;
    }
    const cells = rec.cells;
    if (cells.length === 0) return;
    set.rows++;
    // A bad row goes to #refuse (a closure made per row cost a third of the reading time).
    if (cells.length < 2 || cells.length > CHANGE_COLUMNS.length) {
      this.#refuse(
        rec.line,
        'WRONG_COLUMN_COUNT',
        Math.min(cells.length, CHANGE_COLUMNS.length) + 1,
        `expected ${CHANGE_COLUMNS.length} cells (${CHANGE_COLUMNS.join(',')}), got ${cells.length}`,
      );
      return;
    }
    const opCell = cells[0]!;
    const op = OP_CODES[opCell] ?? OP_CODES[opCell.trim().toLowerCase()];
    if (op === undefined) {
      this.#refuse(rec.line, 'BAD_OP', 1, `op${shownOp(opCell)} is not one of ${CHANGE_OPS.join(', ')}`);
      return;
    }
    const key = parseE164Strict(cells[1]!);
    if (key === undefined) {
      this.#refuse(
        rec.line,
        'BAD_PHONE',
        2,
        `phone "${redactPhone(cells[1]!)}" is not E.164 (+, a known country calling code, at most 15 digits)`,
      );
      return;
    }
    const id = cells[2] ?? '';
    if (op === OP.ADD) {
      if (cells.length !== CHANGE_COLUMNS.length) {
        this.#refuse(rec.line, 'WRONG_COLUMN_COUNT', 3, 'an add needs 3 cells (op,phone,user_id), got 2');
        return;
      }
      const halves = this.#halves;
      if (!readUserIdHalves(id, halves) && !readUserIdHalves(id.trim(), halves)) {
        this.#refuse(rec.line, 'BAD_USER_ID', 3, 'user_id of an add is not an integer from 1 to 2^64 − 1');
        return;
      }
      set.push(op, key, halves[0]!, halves[1]!);
    } else {
      if (id !== '' && id.trim() !== '') {
        this.#refuse(
          rec.line,
          'UNEXPECTED_USER_ID',
          3,
          `a${op === OP.OPTIN || op === OP.OPTOUT ? 'n' : ''} ${CHANGE_OPS[op - 1]} names a number only: leave user_id empty`,
        );
        return;
      }
      set.push(op, key, 0, 0);
    }
  }

  #refuse(line: number, problem: ChangeRowProblem, column: number, message: string): void {
    if (!this.#skipInvalid) throw new InputError({ file: this.#file, line, column }, message);
    this.set.skipped[problem]++;
  }

  finish(): ChangeSet {
    if (!this.#sawHeader) checkHeader(this.#file, undefined, CHANGE_COLUMNS);
    return this.set;
  }
}

/**
 * Reads and checks the records of a changes CSV (header first) into a {@link ChangeSet}. A bad
 * row throws `InputError` at `file`, its line and column, unless `skipInvalid` (then it is counted
 * by kind). Messages never show a phone number or a user id.
 */
export async function readChangeRecords(
  records: AsyncIterable<CsvRecord>,
  file: string,
  skipInvalid: boolean,
  expected?: number,
): Promise<ChangeSet> {
  const checker = new ChangeRowChecker(file, skipInvalid, expected);
  for await (const rec of records) checker.record(rec);
  return checker.finish();
}

/**
 * Reads and checks a changes CSV file (see {@link readChangeRecords}): the same records as
 * `csvRecords` gives, parsed a read buffer at a time without a promise per record (1M rows in
 * about a second).
 */
export async function readChangesCsv(path: string, skipInvalid: boolean): Promise<ChangeSet> {
  const checker = new ChangeRowChecker(path, skipInvalid);
  const cursor = await CsvRecordCursor.open(path);
  try {
    while (await cursor.fill()) {
      for (let rec = cursor.next(); rec !== undefined; rec = cursor.next()) checker.record(rec);
    }
  } finally {
    await cursor.close();
  }
  return checker.finish();
}
