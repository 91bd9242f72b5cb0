import { TWO_POW_32 } from './layout.js';

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

const MAX_USER_ID_DIGITS = 20;
const ZERO = 0x30;

/**
 * Reads a decimal user id into its u32 halves (`out[0]` low, `out[1]` high) without a BigInt:
 * the same rule as {@link parseUserId} (1 to 20 decimal digits, value in [1, 2^64 − 1]) at a
 * fraction of the cost, for the build's hot loop. Returns false (and leaves `out` undefined in
 * meaning) when the text is not such an id. Never goes through a JS number of the whole id,
 * which would round ids above 2^53.
 */
export function readUserIdHalves(text: string, out: Uint32Array): boolean {
  const n = text.length;
  if (n === 0 || n > MAX_USER_ID_DIGITS) return false;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return false;
    // (hi, lo) × 10 + d with a carry between the halves: lo × 10 + 9 < 2^36 and hi × 10 + carry
    // < 2^36 stay exact in float64.
    const wide = lo * 10 + d;
    const carry = Math.floor(wide / TWO_POW_32);
    lo = wide - carry * TWO_POW_32;
    hi = hi * 10 + carry;
    if (hi >= TWO_POW_32) return false;
  }
  if (lo === 0 && hi === 0) return false;
  out[0] = lo;
  out[1] = hi;
  return true;
}
