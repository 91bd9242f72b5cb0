/**
 * Why a cell was rejected. Stable codes: reports and rejects files carry them.
 * The numeric code of a reason (used in typed arrays on the hot path) is its position in
 * {@link REJECT_REASONS} plus one; 0 means "valid". New reasons are appended, never inserted:
 * a code never changes meaning.
 *
 * - `OVER_15_DIGITS` (9): a number libphonenumber-js holds valid whose E.164 has more than 15
 *   digits (some German, Indonesian, Japanese, Korean, Nigerian, Uruguayan ranges, up to 19
 *   digits). E.164 and the index hold at most 15, so it can never be on the platform.
 * - `MISSING_PLUS` (10): in strict mode, a cell that is not valid as written but would be
 *   valid read as international with `+` prepended (a country code written without `+`).
 */
export const REJECT_REASONS = [
  'EMPTY',
  'NOT_A_NUMBER',
  'TOO_SHORT',
  'TOO_LONG',
  'INVALID_COUNTRY',
  'INVALID_NUMBER',
  'NOT_A_HASH',
  'MALFORMED_ROW',
  'OVER_15_DIGITS',
  'MISSING_PLUS',
] as const;

/** One reject reason; see {@link REJECT_REASONS}. */
export type RejectReason = (typeof REJECT_REASONS)[number];

/** The numeric code of "valid" in typed arrays of reason codes. */
export const VALID_CODE = 0;

/** The numeric code of a reason (1-based). */
export function reasonCode(reason: RejectReason): number {
  return REJECT_REASONS.indexOf(reason) + 1;
}

/** The reason of a numeric code; undefined for 0 (valid) or an unknown code. */
export function reasonOfCode(code: number): RejectReason | undefined {
  return REJECT_REASONS[code - 1];
}
