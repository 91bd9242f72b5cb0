/** A phone number in E.164: `+`, country calling code, national number; at most 15 digits. */
export type E164 = string & { readonly __brand: 'E164' };

/**
 * The E.164 digits read as one exact integer (at most 15 digits < 2^53, so a float64 holds it
 * exactly). The value the index stores and the join compares. 0 is never a key.
 */
export type PhoneKey = number & { readonly __brand: 'PhoneKey' };

/**
 * The key of an E.164 string (the caller guarantees the syntax, at most 15 digits). The
 * normaliser reaches it only through `accepted` (result.ts), which rejects a number of more
 * than 15 digits as OVER_15_DIGITS first: above 2^53 `Number` would round.
 */
export function e164ToKey(e164: E164): PhoneKey {
  return Number(e164.slice(1)) as PhoneKey;
}

/** The E.164 string of a key. */
export function keyToE164(key: PhoneKey): E164 {
  return `+${key}` as E164;
}

/** Largest key: E.164 allows at most 15 digits. */
const MAX_PHONE_KEY = 999_999_999_999_999;

/** True when `value` can be a {@link PhoneKey}: a positive integer of at most 15 digits. */
export function isPhoneKey(value: number): value is PhoneKey {
  return Number.isInteger(value) && value > 0 && value <= MAX_PHONE_KEY;
}
