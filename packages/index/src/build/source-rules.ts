/**
 * The rules of an index source row, in one place: the columns, the problems a row may have, and
 * the checks that find them, for the source CSV (the build, and the routing pass of a sharded
 * build) and for rows given in memory. A refused row is a {@link RowProblem}, never a throw: the
 * caller fails the build at the row's place or, with `skipInvalid`, counts it.
 */
import { InputError, type InputPosition } from '@rollcall/errors';
import { type PhoneKey, parseE164Strict, redactPhone } from '@rollcall/phone';
import { parseOptedOut } from '../csv.js';
import { readUserIdHalves } from '../user-id.js';

/** Columns of the source CSV, in order. */
export const SOURCE_COLUMNS = ['phone', 'user_id', 'opted_out'] as const;

/**
 * Why a source row was refused. Stable codes: `--skip-invalid` reports count by them.
 * - `BAD_PHONE`: not strict E.164 (`+`, a known country calling code, at most 15 digits, nothing else).
 * - `BAD_USER_ID`: not a decimal integer in [1, 2^64 − 1].
 * - `BAD_OPTED_OUT`: not true/false, 1/0 or yes/no.
 * - `DUPLICATE_PHONE`: the phone is on an earlier row too (the first row is kept when skipping).
 * - `WRONG_COLUMN_COUNT`: not exactly three cells.
 */
export const SOURCE_ROW_PROBLEMS = [
  'BAD_PHONE',
  'BAD_USER_ID',
  'BAD_OPTED_OUT',
  'DUPLICATE_PHONE',
  'WRONG_COLUMN_COUNT',
] as const;

/** One of {@link SOURCE_ROW_PROBLEMS}. */
export type SourceRowProblem = (typeof SOURCE_ROW_PROBLEMS)[number];

/** Counts by problem, all zero. */
export function noSourceRowProblems(): Record<SourceRowProblem, number> {
  return { BAD_PHONE: 0, BAD_USER_ID: 0, BAD_OPTED_OUT: 0, DUPLICATE_PHONE: 0, WRONG_COLUMN_COUNT: 0 };
}

/** The `file` of positions in errors about rows given to `buildIndexFromRows`; lines are row numbers. */
export const ROWS_SOURCE = '<rows>';

/** A source row whose phone is already on an earlier row: names both lines. */
export class DuplicatePhoneError extends InputError {
  /** Line (or row number) of the first occurrence. */
  readonly firstLine: number;

  constructor(position: InputPosition, firstLine: number, phone: string) {
    super(position, `duplicate phone ${redactPhone(phone)}: already on line ${firstLine}`);
    this.firstLine = firstLine;
  }
}

/** A refused row: what is wrong and where. */
export class RowProblem {
  constructor(
    readonly problem: SourceRowProblem,
    readonly column: number | undefined,
    readonly message: string,
  ) {}

  /** The error of this problem on `line` of `file`, when rows are not skipped. */
  errorAt(file: string, line: number): InputError {
    return new InputError({ file, line, column: this.column }, this.message);
  }
}

/** What {@link checkSourceCells} read from a good row besides its key (reused from row to row). */
export class SourceCells {
  /** The user id's u32 halves: `[lo, hi]`. */
  readonly halves = new Uint32Array(2);
  optedOut = false;
}

/**
 * Checks the cells of a source CSV row: three cells, a strict E.164 phone, a user id, an opted-out
 * flag (in that order: the first problem found is the row's). Returns the phone's key, the user
 * id and flag going to `out`, or the row's problem.
 */
export function checkSourceCells(cells: readonly string[], out: SourceCells): PhoneKey | RowProblem {
  if (cells.length !== SOURCE_COLUMNS.length) {
    return new RowProblem(
      'WRONG_COLUMN_COUNT',
      Math.min(cells.length, SOURCE_COLUMNS.length) + 1,
      `expected ${SOURCE_COLUMNS.length} cells (${SOURCE_COLUMNS.join(',')}), got ${cells.length}`,
    );
  }
  const phone = cells[0]!;
  const key = parseE164Strict(phone);
  if (key === undefined) {
    return new RowProblem(
      'BAD_PHONE',
      1,
      `phone "${redactPhone(phone)}" is not E.164 (+, a known country calling code, at most 15 digits)`,
    );
  }
  if (!readUserIdHalves(cells[1]!, out.halves)) {
    return new RowProblem('BAD_USER_ID', 2, `user_id "${cells[1]}" is not an integer from 1 to 2^64 − 1`);
  }
  const optedOut = parseOptedOut(cells[2]!);
  if (optedOut === undefined) {
    return new RowProblem('BAD_OPTED_OUT', 3, `opted_out "${cells[2]}" is not true/false, 1/0 or yes/no`);
  }
  out.optedOut = optedOut;
  return key;
}

/** A source row given in memory. */
export interface IndexRow {
  /** E.164, e.g. `+447400123456`. */
  phone: string;
  /** 1 ≤ userId < 2^64. */
  userId: bigint;
  optedOut: boolean;
}

/** Checks a row given in memory; the user id's halves go to `halves`. */
export function checkRow(row: IndexRow, halves: Uint32Array): PhoneKey | RowProblem {
  const phone = typeof row?.phone === 'string' ? row.phone : undefined;
  const key = phone === undefined ? undefined : parseE164Strict(phone);
  if (key === undefined)
    return new RowProblem('BAD_PHONE', 1, `phone "${redactPhone(String(phone))}" is not E.164`);
  const id = row.userId;
  if (typeof id !== 'bigint' || id < 1n || id >= 1n << 64n) {
    return new RowProblem('BAD_USER_ID', 2, `userId ${String(id)} is not a bigint from 1 to 2^64 − 1`);
  }
  if (typeof row.optedOut !== 'boolean')
    return new RowProblem('BAD_OPTED_OUT', 3, 'optedOut is not a boolean');
  halves[0] = Number(id & 0xffffffffn);
  halves[1] = Number(id >> 32n);
  return key;
}
