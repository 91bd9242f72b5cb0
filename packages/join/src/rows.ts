/**
 * How the rows of an upload batch become keys: the one rule both the join's workers and the
 * cluster's coordinator threads apply, so that a local match and a cluster match read every cell
 * alike.
 */
import { assertCountry, normalizeRows, reasonCode } from '@rollcall/phone';

const MALFORMED = reasonCode('MALFORMED_ROW');

/** The rows to normalise: a batch's cells and what each row says about them. */
export interface UploadRows {
  /** Phone cells, row-major: `width` per row. */
  cells: readonly string[];
  /** Phone cells per row, at least 1. */
  width: number;
  /** The raw country cell of each row, or null when the upload has no country column. */
  countries: readonly string[] | null;
  /** 1 where the row had the wrong number of columns; one per row; null if none. */
  malformed: Uint8Array | null;
  /** Country of rows whose own country is blank or absent; null: none. */
  defaultCountry: string | null;
  /** Refuse a country code written without `+` (`MISSING_PLUS`). */
  strict: boolean;
}

/** What {@link normalizeUploadRows} fills: one entry per cell. */
export interface UploadRowsOutput {
  keys: Float64Array;
  reasons: Uint8Array;
  guessed: Uint8Array;
}

/**
 * Normalises every phone cell of a batch (each in its row's country, else the default) and
 * rejects every cell of a malformed row as `MALFORMED_ROW`.
 */
export function normalizeUploadRows(rows: UploadRows, out: UploadRowsOutput): void {
  const defaultCountry = rows.defaultCountry === null ? null : assertCountry(rows.defaultCountry);
  normalizeRows(
    rows.cells,
    rows.width,
    rows.countries ?? undefined,
    { defaultCountry, strict: rows.strict },
    out,
  );
  rejectMalformedRows(rows.malformed, rows.width, out);
}

/** Rejects every cell of each malformed row (`malformed` has one flag per row) as `MALFORMED_ROW`. */
export function rejectMalformedRows(
  malformed: Uint8Array | null,
  width: number,
  out: { keys: Float64Array; reasons: Uint8Array; guessed?: Uint8Array },
): void {
  if (malformed === null) return;
  for (let r = 0; r < malformed.length; r++) {
    if (malformed[r] !== 1) continue;
    for (let i = r * width; i < (r + 1) * width; i++) {
      out.reasons[i] = MALFORMED;
      out.keys[i] = 0;
      if (out.guessed !== undefined) out.guessed[i] = 0;
    }
  }
}
