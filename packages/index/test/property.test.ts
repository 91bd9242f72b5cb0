import type { PhoneKey } from '@rollcall/phone';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { buildIndexFromRows, FOUND, type IndexReader, keySlot } from '../src/index.js';
import { capacityFor } from '../src/table.js';

/** Keys that parse as E.164: +1 and +44 numbers, plus keys with a zero low or high half. */
const keyArb: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: 9_999_999_999 }).map((n) => 10_000_000_000 + n), // +1 and 10 digits
  fc.integer({ min: 0, max: 9_999_999_999 }).map((n) => 440_000_000_000 + n), // +44 and 10 digits
  fc.constantFrom(12_884_901_888, 1_415_555_010), // 3 × 2^32 (low half 0); below 2^32 (high half 0)
);
const userIdArb = fc.oneof(
  fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
  fc.constantFrom(1n, (1n << 53n) + 1n, (1n << 64n) - 1n),
);
const seedArb = fc.integer({ min: 0, max: 0xffffffff });

interface Entry {
  key: number;
  userId: bigint;
  optedOut: boolean;
}

const rowsOf = (entries: readonly Entry[]) =>
  entries.map((e) => ({ phone: `+${e.key}`, userId: e.userId, optedOut: e.optedOut }));

/** Checks the reader against a plain Map on `probes`, one by one and as one batch. */
function answersLikeMap(reader: IndexReader, map: Map<number, Entry>, probes: readonly number[]): void {
  for (const k of probes) {
    const e = map.get(k);
    expect(reader.probe(k as PhoneKey)).toEqual(
      e === undefined ? undefined : { userId: e.userId, optedOut: e.optedOut },
    );
  }
  const keys = Float64Array.from(probes);
  const found = new Uint8Array(keys.length);
  const userIds = new BigUint64Array(keys.length);
  reader.probeBatch(keys, keys.length, found, userIds);
  probes.forEach((k, i) => {
    const e = map.get(k);
    expect(found[i]).toBe(e === undefined ? FOUND.ABSENT : e.optedOut ? FOUND.OPTED_OUT : FOUND.PRESENT);
    expect(userIds[i]).toBe(e?.userId ?? 0n);
  });
}

describe('the index answers like a plain Map on the same rows (fast-check)', () => {
  test('random keys, ids, flags, seeds and probes', async () => {
    const entryArb = fc.record({ key: keyArb, userId: userIdArb, optedOut: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(entryArb, { selector: (e) => e.key, maxLength: 80 }),
        fc.array(keyArb, { maxLength: 80 }),
        seedArb,
        async (entries, extra, hashSeed) => {
          const { reader } = await buildIndexFromRows(rowsOf(entries), { hashSeed });
          // An opt-out is the person's: an entry reads opted out when any entry of its user is.
          const outUsers = new Set(entries.filter((e) => e.optedOut).map((e) => e.userId));
          const map = new Map(entries.map((e) => [e.key, { ...e, optedOut: outUsers.has(e.userId) }]));
          answersLikeMap(reader, map, [...entries.map((e) => e.key), ...extra, 0]);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('colliding-slot-heavy tables: every key homed on the last two slots or the first (wrap-around)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 1_000_000_000 }),
        seedArb,
        fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }),
        async (n, start, hashSeed, flags) => {
          const capacity = capacityFor(n);
          const band = new Set([capacity - 2, capacity - 1, 0]);
          // Scan +1 numbers from `start` for keys whose home slot is in the band: n to insert and
          // as many more to probe as absent (they walk the same cluster).
          const homed: number[] = [];
          for (let k = 10_000_000_000 + start; homed.length < 2 * n; k++) {
            if (band.has(keySlot(k as PhoneKey, hashSeed, capacity))) homed.push(k);
          }
          const entries = homed
            .slice(0, n)
            .map((key, i) => ({ key, userId: BigInt(key) * 3n, optedOut: flags[i]! }));
          const { reader, report } = await buildIndexFromRows(rowsOf(entries), { hashSeed });
          expect(report.capacity).toBe(capacity);
          answersLikeMap(reader, new Map(entries.map((e) => [e.key, e])), homed);
        },
      ),
      { numRuns: 60 },
    );
  });
});
