import { ErrorCodes } from '@rollcall/errors';
import { buildIndexFromRows } from '@rollcall/index';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { JoinPool } from '../src/index.js';

describe('JoinPool.probeShared: the hot join in shared memory', () => {
  test('answers exactly like a Map, for any chunk size and thread count', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 100_000_000, max: 999_999_999 }), { minLength: 1, maxLength: 300 }),
        fc.array(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), { minLength: 300, maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 500 }),
        fc.integer({ min: 1, max: 64 }),
        async (suffixes, ids, picks, chunk) => {
          const rows = suffixes.map((s, i) => ({
            phone: `+447${s}`,
            userId: ids[i]!,
            optedOut: i % 3 === 0,
          }));
          const map = new Map(rows.map((r) => [Number(r.phone.slice(1)), r]));
          const { reader } = await buildIndexFromRows(rows);
          const n = picks.length;
          const keys = new Float64Array(new SharedArrayBuffer(8 * n));
          picks.forEach((p, i) => {
            keys[i] = p < suffixes.length ? Number(`447${suffixes[p]}`) : 447_000_000_000 + p;
          });
          const found = new Uint8Array(new SharedArrayBuffer(n));
          const userIds = new BigUint64Array(new SharedArrayBuffer(8 * n));
          const pool = new JoinPool(reader.buffer, { threads: 2 });
          try {
            const hits = await pool.probeShared(keys, found, userIds, { chunk });
            let expectedHits = 0;
            for (let i = 0; i < n; i++) {
              const row = map.get(keys[i]!);
              if (row) expectedHits++;
              expect([found[i], row ? userIds[i] : 0n]).toEqual([
                row ? (row.optedOut ? 2 : 1) : 0,
                row ? row.userId : 0n,
              ]);
            }
            expect(hits).toBe(expectedHits);
          } finally {
            await pool.close();
          }
        },
      ),
      { numRuns: 8 },
    );
  });

  test('refuses arrays that are not in shared memory', async () => {
    const { reader } = await buildIndexFromRows([{ phone: '+447400123456', userId: 1n, optedOut: false }]);
    const pool = new JoinPool(reader.buffer, { threads: 1 });
    try {
      await expect(
        pool.probeShared(new Float64Array(1), new Uint8Array(1), new BigUint64Array(1)),
      ).rejects.toMatchObject({
        code: ErrorCodes.INVALID_ARGUMENT,
      });
    } finally {
      await pool.close();
    }
  });
});
