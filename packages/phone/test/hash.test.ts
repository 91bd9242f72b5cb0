import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashPhone, hashPhoneHex, type PhoneKey, parseHashedCell, SHA256_BYTES } from '../src/index.js';

// Digests computed outside this code base (`printf '%s' 447400925334 | sha256sum`).
const VECTORS: [key: number, convention: 'meta' | 'google', hex: string][] = [
  [447400925334, 'meta', 'e3debb80afb45a2061d9aa25cbc3d045d0e9100a0ea601e3a49f118fe3bee825'],
  [447400925334, 'google', '98b1b8f2864488f8205de4025ab50e6de6bdae1b95f7c9d06b9adb9b1748e866'],
  [254712123456, 'meta', '97ea6b3027070d5f6e5fd26db26f62209f90d41720197189a5013240e6fdd61f'],
  [254712123456, 'google', 'd1d07087c48d5f72b2a0468a229643ae9fccb7bb6bda3e7fd6b8c86d39e666b0'],
];

describe('hashPhone', () => {
  it.each(VECTORS)('%d (%s) → %s', (key, convention, hex) => {
    const digest = hashPhone(key as PhoneKey, convention);
    expect(digest).toBeInstanceOf(Uint8Array);
    expect(digest.length).toBe(SHA256_BYTES);
    expect(Buffer.from(digest).toString('hex')).toBe(hex);
    expect(hashPhoneHex(key as PhoneKey, convention)).toBe(hex);
  });

  it.each([0, -1, 1.5, Number.NaN, 1e15, 2 ** 53])('throws ERR_INVALID_ARGUMENT for key %d', (key) => {
    expect(() => hashPhone(key as PhoneKey, 'meta')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', option: 'key' }),
    );
  });

  it('throws ERR_INVALID_ARGUMENT for an unknown convention', () => {
    expect(() => hashPhone(447400925334 as PhoneKey, 'tiktok' as 'meta')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', option: 'convention' }),
    );
  });

  it('is SHA-256 of the digits (meta) or of +digits (google), for any key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999_999_999_999 }), (key) => {
        const sha = (text: string) => createHash('sha256').update(text).digest('hex');
        expect(hashPhoneHex(key as PhoneKey, 'meta')).toBe(sha(String(key)));
        expect(hashPhoneHex(key as PhoneKey, 'google')).toBe(sha(`+${key}`));
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseHashedCell', () => {
  const hex = VECTORS[0]![2];

  it.each([
    [hex, hex],
    [hex.toUpperCase(), hex],
    [`  ${hex}\t`, hex],
    [`\u00A0${hex.slice(0, 32).toUpperCase()}${hex.slice(32)}\r\n`, hex],
  ])('reads %j', (cell, expected) => {
    const result = parseHashedCell(cell);
    expect(result.ok && Buffer.from(result.digest).toString('hex')).toBe(expected);
  });

  it.each([
    ['', 'EMPTY'],
    ['   ', 'EMPTY'],
    [hex.slice(1), 'NOT_A_HASH'],
    [`${hex}0`, 'NOT_A_HASH'],
    [`${hex.slice(1)}g`, 'NOT_A_HASH'],
    [`0x${hex.slice(2)}`, 'NOT_A_HASH'],
    [`${hex.slice(0, 32)} ${hex.slice(32)}`, 'NOT_A_HASH'],
    ['+447400925334', 'NOT_A_HASH'],
    [Buffer.from(hex, 'hex').toString('base64'), 'NOT_A_HASH'],
  ])('rejects %j as %s', (cell, reason) => {
    expect(parseHashedCell(cell)).toEqual({ ok: false, reason });
  });

  it('reads back what hashPhoneHex writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999_999_999_999 }), fc.boolean(), (key, upper) => {
        const text = hashPhoneHex(key as PhoneKey, 'google');
        const result = parseHashedCell(upper ? text.toUpperCase() : text);
        expect(result).toEqual({ ok: true, digest: hashPhone(key as PhoneKey, 'google') });
      }),
      { numRuns: 200 },
    );
  });
});
