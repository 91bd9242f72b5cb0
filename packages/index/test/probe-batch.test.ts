/**
 * probeBatch on batches large enough to be partitioned (≥ 2^19 keys) against tables large enough
 * to be split (≥ 1.4 MB): the answers, per input position, equal `probe` one key at a time and a
 * plain Map. The small-table, small-batch path is covered by property.test.ts.
 */
import type { PhoneKey } from '@rollcall/phone';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildIndexFromRows, FOUND, type IndexReader, keySlot } from '../src/index.js';
import { capacityFor } from '../src/table.js';
import { prng } from './helpers.js';

/** Above the partition threshold of reader.ts (2^19 keys). */
const LARGE_BATCH = (1 << 19) + 1_234;
/** 200,000 entries: 285,715 slots, 4.6 MB of table, split into 4 partitions. */
const ENTRIES = 200_000;
const SEED = 0x2545f491;
const TWO_POW_32 = 2 ** 32;

interface Entry {
  userId: bigint;
  optedOut: boolean;
}

let reader: IndexReader;
const map = new Map<number, Entry>();
const stored: number[] = [];

/** Keys homed on the table's last three slots: their walks wrap around to slot 0. */
function wrappingKeys(capacity: number, n: number): number[] {
  const out: number[] = [];
  for (let k = 10_000_000_000; out.length < n; k++) {
    if (keySlot(k as PhoneKey, SEED, capacity) >= capacity - 3) out.push(k);
  }
  return out;
}

beforeAll(async () => {
  const rand = prng(7);
  const keys = new Set<number>(wrappingKeys(capacityFor(ENTRIES), 12));
  // Keys with a zero low half (multiples of 2^32) and below 2^32 (zero high half).
  for (const m of [3, 4, 103, 104]) keys.add(m * TWO_POW_32); // +1 288…, +1 717…, +44 238…, +44 667…
  keys.add(1_415_555_010);
  while (keys.size < ENTRIES) keys.add(440_000_000_000 + Math.floor(rand() * 9_999_999_999));
  const rows = [];
  for (const key of keys) {
    const hi = BigInt(Math.floor(rand() * TWO_POW_32));
    const userId = rand() < 0.5 ? (hi << 32n) | BigInt(key % TWO_POW_32) || 1n : BigInt(stored.length + 1);
    const optedOut = rand() < 0.2;
    rows.push({ phone: `+${key}`, userId, optedOut });
    stored.push(key);
  }
  const built = await buildIndexFromRows(rows, { hashSeed: SEED });
  reader = built.reader;
  // An opt-out is the person's: every entry of a user with any opted-out number reads opted out.
  const outUsers = new Set(rows.filter((r) => r.optedOut).map((r) => r.userId));
  for (const r of rows)
    map.set(Number(r.phone.slice(1)), { userId: r.userId, optedOut: outUsers.has(r.userId) });
}, 60_000);

/** Numbers no slot can hold, and keys that only alias a stored one if the high half is cut short. */
function oddKeys(): number[] {
  const k = stored[5]!;
  return [
    0,
    -k,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    k + 0.5,
    3 * TWO_POW_32 + 0.25, // fraction of a stored key with a zero low half
    2 ** 64 + 3 * TWO_POW_32, // high half 2^32 + 3: equals a stored key's high half mod 2^32
    2 ** 50 + (k % TWO_POW_32), // first key past 18 bits of high half
    2 ** 53,
    Number.MAX_VALUE,
  ];
}

/** A batch: stored keys (with repeats), absent keys and odd numbers, in a seeded shuffle. */
function batchOf(n: number, seed: number, hitShare: number): Float64Array {
  const rand = prng(seed);
  const odd = oddKeys();
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rand();
    keys[i] =
      r < hitShare
        ? stored[Math.floor(rand() * stored.length)]!
        : r < 0.98
          ? 330_000_000_000 + Math.floor(rand() * 9_999_999_999)
          : odd[Math.floor(rand() * odd.length)]!;
  }
  return keys;
}

/** Checks found/userIds of `count` keys against the Map and against `probe`. */
function expectLikeMap(keys: Float64Array, count: number, found: Uint8Array, userIds: BigUint64Array): void {
  let mismatches = 0;
  for (let i = 0; i < count; i++) {
    const e = map.get(keys[i]!);
    const want = e === undefined ? FOUND.ABSENT : e.optedOut ? FOUND.OPTED_OUT : FOUND.PRESENT;
    const single = reader.probe(keys[i]! as PhoneKey);
    if (
      found[i] !== want ||
      userIds[i] !== (e?.userId ?? 0n) ||
      (single === undefined) !== (e === undefined) ||
      (single !== undefined && single.userId !== e?.userId)
    ) {
      // One expect per mismatch would be slow on 500k keys; report the first few.
      if (mismatches++ < 5)
        expect({ i, key: keys[i], found: found[i], id: userIds[i] }).toEqual({
          i,
          key: keys[i],
          found: want,
          id: e?.userId ?? 0n,
        });
    }
  }
  expect(mismatches).toBe(0);
}

describe('probeBatch of a large batch (partitioned) answers per input position like a Map', () => {
  test('half hits, absent keys, odd numbers, repeats', () => {
    const keys = batchOf(LARGE_BATCH, 1, 0.5);
    const found = new Uint8Array(LARGE_BATCH).fill(9);
    const userIds = new BigUint64Array(LARGE_BATCH).fill(7n);
    reader.probeBatch(keys, LARGE_BATCH, found, userIds);
    expectLikeMap(keys, LARGE_BATCH, found, userIds);
  });

  test('every stored key, including the ones whose walk wraps around the table', () => {
    const n = Math.max(stored.length, LARGE_BATCH);
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = stored[(i * 7919) % stored.length]!;
    const found = new Uint8Array(n);
    const userIds = new BigUint64Array(n);
    reader.probeBatch(keys, n, found, userIds);
    expectLikeMap(keys, n, found, userIds);
  });

  test('views at an offset (as the workers pass them), count below keys.length, then a small batch', () => {
    const all = batchOf(LARGE_BATCH + 100, 2, 0.7);
    const keys = all.subarray(50, 50 + LARGE_BATCH + 20);
    const found = new Uint8Array(LARGE_BATCH + 64).fill(9).subarray(3);
    const ids = new BigUint64Array(LARGE_BATCH + 64).fill(7n);
    const userIds = ids.subarray(5);
    reader.probeBatch(keys, LARGE_BATCH, found, userIds);
    expectLikeMap(keys, LARGE_BATCH, found, userIds);
    // Nothing past count is written.
    expect(found[LARGE_BATCH]).toBe(9);
    expect(userIds[LARGE_BATCH]).toBe(7n);
    expect(ids[4]).toBe(7n);
    // The reader's scratch, grown by the large batch, serves a small one (the rounds path).
    const small = batchOf(3_000, 3, 0.5);
    const f2 = new Uint8Array(3_000);
    const u2 = new BigUint64Array(3_000);
    reader.probeBatch(small, 3_000, f2, u2);
    expectLikeMap(small, 3_000, f2, u2);
  });

  test('fast-check: any hit share and seed, the same answers (few runs: each is 500k probes)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.double({ min: 0, max: 0.98, noNaN: true }),
        (seed, hitShare) => {
          const keys = batchOf(LARGE_BATCH, seed, hitShare);
          const found = new Uint8Array(LARGE_BATCH);
          const userIds = new BigUint64Array(LARGE_BATCH);
          reader.probeBatch(keys, LARGE_BATCH, found, userIds);
          expectLikeMap(keys, LARGE_BATCH, found, userIds);
        },
      ),
      { numRuns: 4 },
    );
  });
});
