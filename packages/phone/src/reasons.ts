/**
 * Why a cell was rejected. Stable codes: reports and rejects files carry them.
 * The numeric code of a reason (used in typed arrays on the hot path) is its position in
 * {@link REJECT_REASONS} plus one; 0 means "valid".
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
