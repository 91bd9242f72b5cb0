/** A platform user id: unsigned 64-bit, 1 ≤ id < 2^64. Always a bigint, never a JS number. */
export type UserId = bigint & { readonly __brand: 'UserId' };

const MAX_U64 = (1n << 64n) - 1n;
const DECIMAL = /^[0-9]{1,20}$/;

/** Parses a decimal user id; returns undefined unless it is an integer in [1, 2^64 − 1]. */
export function parseUserId(text: string): UserId | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = BigInt(text);
  return value >= 1n && value <= MAX_U64 ? (value as UserId) : undefined;
}

/** The user id held in two 32-bit halves (how the index stores it). */
export function userIdFromHalves(hi: number, lo: number): UserId {
  return ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)) as UserId;
}
