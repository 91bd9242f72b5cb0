import type { UserId } from '@rollcall/index';
import { REJECT_REASONS, type RejectReason, redactPhone } from '@rollcall/phone';
import type { BatchResultViews } from './protocol.js';
import { type CountryTally, countByCountry } from './regions.js';

/** A typed array that grows by doubling; keeps numbers unboxed (8 bytes each). */
class GrowableFloat64 {
  #data = new Float64Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.length++] = value;
  }
  view(): Float64Array {
    return this.#data.subarray(0, this.length);
  }
}

/** {@link GrowableFloat64} for unsigned 64-bit values (user ids never pass through a JS number). */
class GrowableBigUint64 {
  #data = new BigUint64Array(1024);
  length = 0;
  push(value: bigint): void {
    if (this.length === this.#data.length) {
      const next = new BigUint64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.length++] = value;
  }
  view(): BigUint64Array {
    return this.#data.subarray(0, this.length);
  }
}

/** Counts distinct values of a typed array by sorting it in place. */
function countDistinctSorted(values: Float64Array | BigUint64Array): number {
  values.sort();
  let distinct = 0;
  for (let i = 0; i < values.length; i++) if (i === 0 || values[i] !== values[i - 1]) distinct++;
  return distinct;
}

/** The numbers one phone column gave. */
export interface ColumnTally {
  /** The column's header. */
  header: string;
  /** Non-empty cells of the column (numbers written). */
  numbers: number;
  /** Of them, valid numbers (well-formed digests, for hashed uploads). */
  valid: number;
}

/** The phone cells of an upload counted one by one (a row may hold several). */
export interface NumberTally {
  /** Non-empty phone cells. */
  numbers: number;
  /** Of them, valid. */
  valid: number;
  /** Of them, rejected (sum of `invalidByReason`). */
  invalid: number;
  /** Rejected numbers by reason (EMPTY is always 0: an empty cell is not a number). */
  invalidByReason: Record<(typeof REJECT_REASONS)[number], number>;
}

/** The counts and audience of a finished match, before any suppression. */
export interface TallyResult {
  /** Data rows; each is in exactly one of `valid` (at least one valid number) and `invalid`. */
  rows: number;
  invalid: number;
  valid: number;
  /** Distinct valid numbers (digests, for hashed uploads), over every phone column. */
  unique: number;
  /** Distinct matched numbers. */
  matched: number;
  /** Rows with at least one matched number (opted out or not). Exact: for the audit only. */
  matchedRows?: number;
  /** Rows whose valid numbers include one read as international after failing as national. */
  readAsInternational?: number;
  /** The phone cells counted one by one. */
  numbers?: NumberTally;
  /** What each phone column gave, in header order. */
  columns?: ColumnTally[];
  optedOutDropped: number;
  /** Distinct user ids, ascending by numeric value. */
  audience: BigUint64Array;
  invalidByReason: Record<(typeof REJECT_REASONS)[number], number>;
  /**
   * Distinct valid numbers and distinct matched numbers by country, largest first; null for hashed
   * uploads (an unmatched digest has no known number, so no country).
   */
  byCountry?: CountryTally[] | null;
  /** The first few rejected cells of each reason, redacted; see {@link RejectExamples}. */
  rejectExamples?: Partial<Record<RejectReason, RejectExample[]>>;
  /**
   * The sets behind the counts, for the privacy layer: the valid keys and the matched keys, each
   * ascending (repeats kept), and for hashed uploads the distinct digests, ascending. Never shown.
   */
  sets?: { valid: Float64Array; matched: Float64Array; optedOut: Float64Array; digests: string[] | null };
}

/** A rejected cell as a report may show it: its line in the upload and the cell, as {@link exampleCell} shows it. */
export interface RejectExample {
  line: number;
  cell: string;
}

// A cell shown as written must be short, printable, and hold nothing a number or an address
// could be made of: no digit (of any script), no `@`, no control or bidi-format character.
const SHOWN_AS_WRITTEN = /^[^\p{Nd}\p{No}\p{C}@]{1,16}$/u;
const MASKED = redactPhone('');

/**
 * A rejected cell as reports show it: placeholder junk without a digit (`N/A`, `#REF!`, `call me`)
 * as written, trimmed; anything else through `redactPhone` (`+2637•••••37`, `=cmd|•••••A0`), so no
 * number is ever shown whole. Idempotent: an example shown again is unchanged.
 */
export function exampleCell(cell: string): string {
  const text = cell.trim();
  return SHOWN_AS_WRITTEN.test(text) ? text : redactPhone(text);
}

/** How many example cells a report keeps for each reject reason. */
export const REJECT_EXAMPLES_PER_REASON = 5;

const EMPTY_CODE = REJECT_REASONS.indexOf('EMPTY') + 1;
const MAX_LOOKED_PER_REASON = 256;

/**
 * Keeps the first {@link REJECT_EXAMPLES_PER_REASON} rejected cells of each reason, through
 * {@link exampleCell} at once (the raw cell is never stored), skipping one shown the same as an
 * example already kept (but not a fully masked one: its line is what tells it apart). EMPTY has
 * none: every example would be blank.
 */
export class RejectExamples {
  readonly #kept = REJECT_REASONS.map((): RejectExample[] => []);
  // Cells of each reason looked at. A reason stops collecting when it has its examples or after
  // this many cells: a file that repeats one junk cell a million times must not cost a million looks.
  readonly #looked = new Uint32Array(REJECT_REASONS.length);
  // Reasons still collecting; when none is, `add` returns before looking at a row.
  #open = REJECT_REASONS.length - 1;

  /** Looks at one batch's reasons; `lines[r]` is the upload line of row r, which holds cells `[r * width, (r + 1) * width)`. */
  add(reasons: Uint8Array, cells: readonly string[], lines: ArrayLike<number>, width = 1): void {
    if (this.#open === 0) return;
    for (let i = 0; i < reasons.length; i++) {
      const code = reasons[i]!;
      if (code === 0 || code === EMPTY_CODE) continue;
      const kept = this.#kept[code - 1];
      if (kept === undefined || this.#looked[code - 1]! >= MAX_LOOKED_PER_REASON) continue;
      const looked = ++this.#looked[code - 1]!;
      const shown = exampleCell(cells[i] ?? '');
      const repeat = shown !== MASKED && kept.some((e) => e.cell === shown);
      if (!repeat) kept.push({ line: lines[width === 1 ? i : Math.floor(i / width)]!, cell: shown });
      if (kept.length === REJECT_EXAMPLES_PER_REASON || looked === MAX_LOOKED_PER_REASON) {
        this.#looked[code - 1] = MAX_LOOKED_PER_REASON;
        if (--this.#open === 0) return;
      }
    }
  }

  /** The examples by reason, only reasons that have some. */
  result(): Partial<Record<RejectReason, RejectExample[]>> {
    const out: Partial<Record<RejectReason, RejectExample[]>> = {};
    REJECT_REASONS.forEach((reason, i) => {
      if (this.#kept[i]!.length > 0) out[reason] = this.#kept[i]!.map((e) => ({ ...e }));
    });
    return out;
  }
}

/** The verdict on each row of a batch, for the rejects file. */
export interface RowVerdicts {
  /** The reason code of each row: 0 when it has a valid number, else the reason of its first rejected non-empty cell (EMPTY when every cell is empty). */
  reasons: Uint8Array;
}

/**
 * Folds batch results into the report's counts. Memory grows with the valid and matched numbers
 * (8 bytes each, unboxed), never with the file: distinctness is settled once, by sorting, at the end.
 *
 * Rows and numbers are counted apart: a row holds `width` phone cells (one per phone column); it is
 * valid when any of them is, and every valid number of every row counts towards `unique`, the
 * matches and the audience.
 */
export class Tally {
  rows = 0;
  readonly #width: number;
  readonly #reasonCounts = new Float64Array(REJECT_REASONS.length + 1);
  readonly #numberReasonCounts = new Float64Array(REJECT_REASONS.length + 1);
  readonly #columnNumbers: Float64Array;
  readonly #columnValid: Float64Array;
  readonly #headers: readonly string[];
  #matchedRows = 0;
  #readAsInternational = 0;
  readonly #validKeys = new GrowableFloat64();
  readonly #validDigests = new Set<string>();
  readonly #matchedKeys = new GrowableFloat64();
  readonly #optedOutKeys = new GrowableFloat64();
  readonly #audienceIds = new GrowableBigUint64();
  readonly #optedOutIds = new GrowableBigUint64();
  readonly #examples = new RejectExamples();
  #hashed = false;

  /** @param headers - the phone columns' headers, one per cell of a row (default: one column, `phone`). */
  constructor(headers: readonly string[] = ['phone']) {
    this.#headers = headers;
    this.#width = Math.max(1, headers.length);
    this.#columnNumbers = new Float64Array(this.#width);
    this.#columnValid = new Float64Array(this.#width);
  }

  /** Notes example rejected cells of a batch (redacted); cheap once every reason has its examples. */
  addExamples(views: BatchResultViews, cells: readonly string[], lines: ArrayLike<number>): void {
    this.#examples.add(views.reasons, cells, lines, this.#width);
  }

  /**
   * Adds one batch of rows (`width` cells each). `cells` are the batch's cells; `hashed` says they
   * are digests (whose distinct values are counted instead of keys). Returns each row's verdict.
   */
  add(views: BatchResultViews, cells: readonly string[], hashed = false): RowVerdicts {
    const { keys, reasons, found, userIds, guessed } = views;
    const width = this.#width;
    const n = reasons.length;
    const rows = n / width;
    const rowReasons = new Uint8Array(rows);
    this.rows += rows;
    if (hashed) this.#hashed = true;
    for (let r = 0, i = 0; r < rows; r++) {
      let rowReason = -1;
      let matched = false;
      let guess = false;
      for (let c = 0; c < width; c++, i++) {
        const reason = reasons[i]!;
        if (reason !== 0) {
          if (reason !== EMPTY_CODE && !(reason === MALFORMED_CODE && isBlank(cells[i]))) {
            // A rejected number: the row's reason unless the row is valid or an earlier number gave one.
            this.#numberReasonCounts[reason]!++;
            this.#columnNumbers[c]!++;
            if (rowReason === -1 || rowReason === EMPTY_CODE) rowReason = reason;
          } else if (rowReason === -1) rowReason = reason; // an empty cell (of a malformed row, MALFORMED_ROW)
          continue;
        }
        rowReason = 0;
        this.#columnNumbers[c]!++;
        this.#columnValid[c]!++;
        if (guessed[i] === 1) guess = true;
        // Hashed rows: the digest is the identity (an unmatched digest has no known number).
        if (hashed) this.#validDigests.add(cells[i]!.trim().toLowerCase());
        else this.#validKeys.push(keys[i]!);
        const f = found[i]!;
        if (f === 0) continue;
        matched = true;
        this.#matchedKeys.push(keys[i]!);
        if (f === 2) {
          this.#optedOutKeys.push(keys[i]!);
          this.#optedOutIds.push(userIds[i]!);
        } else this.#audienceIds.push(userIds[i]!);
      }
      rowReasons[r] = rowReason;
      this.#reasonCounts[rowReason]!++;
      if (matched) this.#matchedRows++;
      if (guess) this.#readAsInternational++;
    }
    return { reasons: rowReasons };
  }

  /** Settles distinct counts and the sorted audience. Call once, at the end. */
  finish(): TallyResult {
    const invalidByReason = {} as TallyResult['invalidByReason'];
    const numberInvalidByReason = {} as TallyResult['invalidByReason'];
    let invalid = 0;
    let invalidNumbers = 0;
    REJECT_REASONS.forEach((reason, i) => {
      const count = this.#reasonCounts[i + 1]!;
      invalidByReason[reason] = count;
      invalid += count;
      const numbers = this.#numberReasonCounts[i + 1]!;
      numberInvalidByReason[reason] = numbers;
      invalidNumbers += numbers;
    });
    const validNumbers = this.#columnValid.reduce((a, b) => a + b, 0);
    const unique =
      this.#validDigests.size > 0 ? this.#validDigests.size : countDistinctSorted(this.#validKeys.view());
    const matched = countDistinctSorted(this.#matchedKeys.view());
    const optedOutDropped = countDistinctSorted(this.#optedOutKeys.view());
    // Both key arrays are sorted now (by the counts above): countries are one merge pass over them.
    const byCountry = this.#hashed ? null : countByCountry(this.#validKeys.view(), this.#matchedKeys.view());
    return {
      rows: this.rows,
      invalid,
      valid: this.rows - invalid,
      unique,
      matched,
      matchedRows: this.#matchedRows,
      readAsInternational: this.#readAsInternational,
      numbers: {
        numbers: validNumbers + invalidNumbers,
        valid: validNumbers,
        invalid: invalidNumbers,
        invalidByReason: numberInvalidByReason,
      },
      columns: Array.from({ length: this.#width }, (_, c) => ({
        header: this.#headers[c] ?? `column ${c + 1}`,
        numbers: this.#columnNumbers[c]!,
        valid: this.#columnValid[c]!,
      })),
      optedOutDropped,
      audience: audienceOf(this.#audienceIds.view(), this.#optedOutIds.view()),
      invalidByReason,
      byCountry,
      rejectExamples: this.#examples.result(),
      sets: {
        valid: this.#validKeys.view(),
        matched: this.#matchedKeys.view(),
        optedOut: this.#optedOutKeys.view(),
        digests: this.#hashed ? [...this.#validDigests].sort() : null,
      },
    };
  }
}

const MALFORMED_CODE = REJECT_REASONS.indexOf('MALFORMED_ROW') + 1;

function isBlank(cell: string | undefined): boolean {
  return cell === undefined || cell.trim() === '';
}

/**
 * Distinct user ids, ascending, with every user who opted out under any matched number removed
 * (opting out is the user's choice, not the number's). BigUint64Array sorts by numeric value,
 * so 2^64 − 1 sorts last.
 */
function audienceOf(ids: BigUint64Array, optedOut: BigUint64Array): BigUint64Array {
  ids.sort();
  optedOut.sort();
  const out = new BigUint64Array(ids.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (n > 0 && out[n - 1] === id) continue;
    while (j < optedOut.length && optedOut[j]! < id) j++;
    if (j < optedOut.length && optedOut[j] === id) continue;
    out[n++] = id;
  }
  return out.slice(0, n);
}

/** The audience file's text: one decimal user id a line, each line ending in `\n`. */
export function formatAudience(audience: BigUint64Array | readonly UserId[]): string {
  let text = '';
  for (const id of audience) text += `${id}\n`;
  return text;
}
