import type { PhoneKey } from '@rollcall/phone';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import xxhash from 'xxhash-wasm';
import { keyHash, keySlot, slotOf } from '../src/index.js';

const keyArb = fc.integer({ min: 1, max: 999_999_999_999_999 });

describe('keyHash: xxHash32 of the key as 8 little-endian bytes', () => {
  test('equals xxhash-wasm h32Raw for every key and seed (fast-check)', async () => {
    const { h32Raw } = await xxhash();
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    fc.assert(
      fc.property(keyArb, fc.integer({ min: 0, max: 0xffffffff }), (key, seed) => {
        view.setBigUint64(0, BigInt(key), true);
        expect(keyHash(key as PhoneKey, seed)).toBe(h32Raw(bytes, seed));
      }),
      { numRuns: 2000 },
    );
  });

  test('keys with a zero half hash like any other', async () => {
    const { h32Raw } = await xxhash();
    for (const key of [1, 2 ** 32, 3 * 2 ** 32, 2 ** 32 - 1, 999_999_999_999_999]) {
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(key), true);
      expect(keyHash(key as PhoneKey, 7)).toBe(h32Raw(bytes, 7));
    }
  });
});

describe('slotOf: ⌊hash × capacity / 2^32⌋, exactly', () => {
  test('equals the BigInt computation and stays below capacity (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 1, max: 0xffffffff }),
        (hash, capacity) => {
          const slot = slotOf(hash, capacity);
          expect(slot).toBe(Number((BigInt(hash) * BigInt(capacity)) >> 32n));
          expect(slot).toBeGreaterThanOrEqual(0);
          expect(slot).toBeLessThan(capacity);
        },
      ),
      { numRuns: 5000 },
    );
    expect(slotOf(0xffffffff, 0xffffffff)).toBe(0xfffffffe);
  });

  test('keySlot composes the two', () => {
    expect(keySlot(447400123456 as PhoneKey, 9, 1000)).toBe(
      slotOf(keyHash(447400123456 as PhoneKey, 9), 1000),
    );
  });
});
