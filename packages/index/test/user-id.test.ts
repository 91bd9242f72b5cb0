import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseUserId, readUserIdHalves, userIdFromHalves } from '../src/user-id.js';

const halvesOf = (text: string): bigint | undefined => {
  const out = new Uint32Array(2);
  return readUserIdHalves(text, out) ? userIdFromHalves(out[1]!, out[0]!) : undefined;
};

describe('readUserIdHalves reads ids exactly as parseUserId, without BigInt', () => {
  test.each([
    ['1', 1n],
    ['9007199254740993', 9007199254740993n], // 2^53 + 1: a float64 would round it
    ['18446744073709551615', 18446744073709551615n], // 2^64 − 1
    ['00000000000000000042', 42n],
    ['4294967296', 4294967296n], // 2^32: low half 0
    ['0', undefined],
    ['18446744073709551616', undefined], // 2^64
    ['99999999999999999999', undefined],
    ['000000000000000000001', undefined], // 21 digits
    ['', undefined],
    ['-1', undefined],
    [' 1', undefined],
    ['1e3', undefined],
    ['0x10', undefined],
  ])('%s', (text, expected) => {
    expect(halvesOf(text)).toBe(expected);
    expect(parseUserId(text)).toBe(expected);
  });

  test('agrees with parseUserId on any decimal text (fast-check)', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 21 });
    const anyId = fc.bigInt({ min: 0n, max: (1n << 65n) - 1n }).map(String);
    fc.assert(
      fc.property(fc.oneof(digits, anyId, fc.string()), (text) => {
        expect(halvesOf(text)).toBe(parseUserId(text));
      }),
      { numRuns: 3000 },
    );
  });
});
