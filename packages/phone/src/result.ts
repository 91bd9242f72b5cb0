import { type E164, e164ToKey, type PhoneKey } from './brands.js';
import type { RejectReason } from './reasons.js';

/** A cell normalised: its E.164 and key, or why it was rejected. */
export type NormalizeResult =
  | { readonly ok: true; readonly e164: E164; readonly key: PhoneKey }
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
};

/** The result of a valid number (internal to this package). */
export function accepted(e164: E164): NormalizeResult {
  return { ok: true, e164, key: e164ToKey(e164) };
}
