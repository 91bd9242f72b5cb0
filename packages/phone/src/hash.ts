import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@rollcall/errors';
import { isPhoneKey, type PhoneKey } from './brands.js';
import { trimCell } from './text.js';

/**
 * How an advertiser hashed phone numbers before upload. `meta`: SHA-256 of the E.164 digits
 * without `+` (`447400925334`); `google`: SHA-256 of the E.164 string with `+` (`+447400925334`).
 */
export type HashConvention = 'meta' | 'google';

/** A pre-hashed upload cell read: its 32-byte digest, or why it is not one. */
export type HashedCellResult =
  | { readonly ok: true; readonly digest: Uint8Array }
  | { readonly ok: false; readonly reason: 'EMPTY' | 'NOT_A_HASH' };

/** Bytes of a SHA-256 digest. */
export const SHA256_BYTES = 32;

const HEX_DIGEST = /^[0-9A-Fa-f]{64}$/;

/**
 * The SHA-256 digest (32 bytes) of a key under a hashing convention. Throws
 * `InvalidArgumentError` for a value that is not a key or an unknown convention.
 */
export function hashPhone(key: PhoneKey, convention: HashConvention): Uint8Array {
  if (!isPhoneKey(key)) {
    throw new InvalidArgumentError('key', 'must be a positive integer of at most 15 digits');
  }
  let text: string;
  if (convention === 'meta') text = String(key);
  else if (convention === 'google') text = `+${key}`;
  else throw new InvalidArgumentError('convention', `must be "meta" or "google", got ${String(convention)}`);
  const digest = createHash('sha256').update(text, 'latin1').digest();
  // A plain Uint8Array view, so callers compare bytes, not Buffer behaviour.
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** The SHA-256 digest of a key under a convention, as 64 lower-case hex digits. */
export function hashPhoneHex(key: PhoneKey, convention: HashConvention): string {
  return Buffer.from(hashPhone(key, convention)).toString('hex');
}

/**
 * Reads a pre-hashed upload cell: 64 hex digits in any case, surrounding whitespace trimmed.
 * Returns the 32-byte digest, or EMPTY / NOT_A_HASH; never throws.
 */
export function parseHashedCell(cell: string): HashedCellResult {
  const text = trimCell(cell);
  if (text === '') return { ok: false, reason: 'EMPTY' };
  if (!HEX_DIGEST.test(text)) return { ok: false, reason: 'NOT_A_HASH' };
  const bytes = Buffer.from(text, 'hex');
  return { ok: true, digest: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}
