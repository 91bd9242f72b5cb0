import { type E164, e164ToKey, type PhoneKey } from './brands.js';
import type { RejectReason } from './reasons.js';

/**
 * A cell normalised: its E.164 and key, or why it was rejected. `international` is present
 * (and true) only when the number was read as international with `+` prepended after it
 * failed as a national number of the default country: a guess the caller may want to count.
 */
export type NormalizeResult =
  | { readonly ok: true; readonly e164: E164; readonly key: PhoneKey; readonly international?: true }
  | { readonly ok: false; readonly reason: RejectReason };

/** One shared, frozen result per reason (internal to this package): rejecting allocates nothing. */
export const REJECTED: Readonly<Record<RejectReason, NormalizeResult>> = {
  EMPTY: Object.freeze({ ok: false, reason: 'EMPTY' }),
  NOT_A_NUMBER: Object.freeze({ ok: false, reason: 'NOT_A_NUMBER' }),
  TOO_SHORT: Object.freeze({ ok: false, reason: 'TOO_SHORT' }),
  TOO_LONG: Object.freeze({ ok: false, reason: 'TOO_LONG' }),
  INVALID_COUNTRY: Object.freeze({ ok: false, reason: 'INVALID_COUNTRY' }),
  INVALID_NUMBER: Object.freeze({ ok: false, reason: 'INVALID_NUMBER' }),
  NOT_A_HASH: Object.freeze({ ok: false, reason: 'NOT_A_HASH' }),
  MALFORMED_ROW: Object.freeze({ ok: false, reason: 'MALFORMED_ROW' }),
  OVER_15_DIGITS: Object.freeze({ ok: false, reason: 'OVER_15_DIGITS' }),
  MISSING_PLUS: Object.freeze({ ok: false, reason: 'MISSING_PLUS' }),
};

// `+` and at most 15 digits (ITU-T E.164). libphonenumber-js holds some longer numbers valid
// (national numbers of up to 17 digits); their digits read as a float64 are not exact above
// 2^53 (+49211056196942043 and +49211056196942041 would share a key), and the index refuses
// them anyway.
const MAX_E164_LENGTH = 16;

/**
 * The result of a number libphonenumber-js holds valid, given as `+` and digits (internal to
 * this package): the one place where the normaliser brands a string E.164 and computes its
 * key, so no key of more than 15 digits can come out of it. A number of more than 15 digits
 * is rejected `OVER_15_DIGITS`. `international`: read as international after failing as
 * national (see {@link NormalizeResult}).
 */
export function accepted(digits: string, international: boolean): NormalizeResult {
  if (digits.length > MAX_E164_LENGTH) return REJECTED.OVER_15_DIGITS;
  const e164 = digits as E164;
  return international
    ? { ok: true, e164, key: e164ToKey(e164), international: true }
    : { ok: true, e164, key: e164ToKey(e164) };
}

/** Whether a reading found a number libphonenumber-js holds valid (internal to this package). */
export function isValidReading(result: NormalizeResult): boolean {
  return result.ok || result === REJECTED.OVER_15_DIGITS;
}
