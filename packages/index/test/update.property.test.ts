/**
 * Issue 15: `index update` against a fresh build. Over random platforms (users with several
 * numbers, some opted out) and random change sets (adds of new numbers, numbers moving to other
 * users, deletes, opt-outs, opt-ins, phones named twice, phones the index does not hold), the
 * updated index — unsharded, and sharded across three files — must answer every probe exactly as
 * a fresh build of the changed CSV does (so every upload gets the same audience), and `audience
 * refresh` of an audience made before the changes must remove exactly the users no longer
 * eligible, whether it reads the eligibility log or scans the index.
 *
 * The reference is a plain Map, applying the rows in order with the semantics of `applyChanges`:
 * an add moves a number (it starts with no opt-out of its own); a user who loses a number carrying
 * their opt-out keeps the opt-out on every number they keep, unless a later row opts one of their
 * numbers in. Failure messages never show a phone number or a user id: properties return booleans.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PhoneKey } from '@rollcall/phone';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  applyChanges,
  buildIndexFromRows,
  type IndexReader,
  type IndexRow,
  openIndex,
  refreshAudience,
  shardOfKey,
  writeIndexFile,
  writeShardedIndexFiles,
} from '../src/index.js';
import { csvOf, keyOf, prng, tempDir, writeText } from './helpers.js';

/** The i-th phone of the universe: distinct for distinct i, all valid GB mobiles. */
const phoneOf = (i: number) => `+447400${String(100000 + i * 37).padStart(6, '0')}`;

type Op = 'add' | 'delete' | 'optout' | 'optin';
interface Change {
  op: Op;
  phone: string;
  user?: bigint;
}

/** The reference: phone → owner and own flag, changed row by row. */
class Model {
  readonly numbers = new Map<string, { user: bigint; own: boolean }>();

  constructor(rows: readonly IndexRow[]) {
    for (const r of rows) this.numbers.set(r.phone, { user: r.userId, own: r.optedOut });
  }

  apply(changes: readonly Change[]): void {
    const lost = new Map<bigint, number>();
    const optedIn = new Map<bigint, number>();
    changes.forEach((c, row) => {
      const had = this.numbers.get(c.phone);
      switch (c.op) {
        case 'add':
          if (had === undefined) this.numbers.set(c.phone, { user: c.user!, own: false });
          else if (had.user !== c.user) {
            if (had.own) lost.set(had.user, row);
            this.numbers.set(c.phone, { user: c.user!, own: false });
          }
          break;
        case 'delete':
          if (had === undefined) break;
          if (had.own) lost.set(had.user, row);
          this.numbers.delete(c.phone);
          break;
        case 'optout':
          if (had !== undefined) had.own = true;
          break;
        case 'optin':
          if (had === undefined) break;
          optedIn.set(had.user, row);
          had.own = false;
          break;
      }
    });
    for (const [user, at] of lost) {
      if ((optedIn.get(user) ?? -1) >= at) continue;
      for (const n of this.numbers.values()) if (n.user === user) n.own = true;
    }
  }

  rows(): IndexRow[] {
    return [...this.numbers].map(([phone, n]) => ({ phone, userId: n.user, optedOut: n.own }));
  }

  /** Users with a number and none opted out, ascending, as an audience file. */
  eligibleAudience(): string {
    const out = new Set<bigint>();
    for (const n of this.numbers.values()) if (n.own) out.add(n.user);
    const ok = new Set<bigint>();
    for (const n of this.numbers.values()) if (!out.has(n.user)) ok.add(n.user);
    return [...ok]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((u) => `${u}\n`)
      .join('');
  }
}

function changesCsv(changes: readonly Change[]): string {
  return `op,phone,user_id\n${changes.map((c) => `${c.op},${c.phone},${c.user ?? ''}`).join('\n')}\n`;
}

/** True when `a` answers every phone of the universe exactly as `b` (presence, user, opted out). */
function sameAnswers(universe: number, probe: (key: PhoneKey) => unknown, fresh: IndexReader): boolean {
  for (let i = 0; i < universe; i++) {
    const key = keyOf(phoneOf(i));
    const x = probe(key) as { userId: bigint; optedOut: boolean } | undefined;
    const y = fresh.probe(key);
    if ((x === undefined) !== (y === undefined)) return false;
    if (x !== undefined && (x.userId !== y!.userId || x.optedOut !== y!.optedOut)) return false;
  }
  return true;
}

const UNIVERSE = 120;

const caseArb = fc
  .record({
    users: fc.uniqueArray(
      fc.oneof(
        fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
        fc.constantFrom(1n, (1n << 53n) + 1n, (1n << 64n) - 1n),
      ),
      // Few users, so most have several numbers (some in, some out).
      { minLength: 2, maxLength: 10 },
    ),
    numbers: fc.array(
      fc.record({ user: fc.nat(), out: fc.integer({ min: 0, max: 2 }).map((n) => n === 0) }),
      { minLength: 1, maxLength: 70 },
    ),
    changes: fc.array(
      fc.record({
        op: fc.constantFrom<Op>('add', 'add', 'delete', 'delete', 'optout', 'optin'),
        // Mostly phones of the platform; some new ones, some the index never holds.
        n: fc.oneof(fc.nat({ max: 69 }), fc.nat({ max: UNIVERSE - 1 })),
        user: fc.nat(),
      }),
      { maxLength: 50 },
    ),
  })
  .map(({ users, numbers, changes }) => {
    const rows: IndexRow[] = numbers.map((n, i) => ({
      phone: phoneOf(i),
      userId: users[n.user % users.length]!,
      optedOut: n.out,
    }));
    const list: Change[] = changes.map((c) => ({
      op: c.op,
      phone: phoneOf(c.n),
      // Adds go to the platform's users and to users new to it (the upper ids).
      ...(c.op === 'add'
        ? { user: c.user % 5 === 0 ? 1_000_000n + BigInt(c.user % 7) : users[c.user % users.length]! }
        : {}),
    }));
    return { rows, changes: list };
  });

describe('index update answers like a fresh build of the changed CSV (fast-check)', () => {
  test('unsharded and across 3 shards; refresh by log and by scan removes exactly the users no longer eligible', async () => {
    const property = fc.asyncProperty(caseArb, async ({ rows, changes }) => {
      const dir = tempDir();
      const src = writeText(dir, 'src.csv', csvOf(rows));
      const index = join(dir, 'i.idx');
      await writeIndexFile(src, index);
      const sharded = await writeShardedIndexFiles(src, join(dir, 's'), { shardCount: 3 });
      const model = new Model(rows);
      const before = model.eligibleAudience();
      model.apply(changes);
      const after = model.eligibleAudience();
      const changesFile = writeText(dir, 'c.csv', changesCsv(changes));
      await applyChanges(index, changesFile);
      await applyChanges(sharded.files[1]!, changesFile);
      const fresh = (await buildIndexFromRows(model.rows())).reader;
      const updated = await openIndex(index);
      const shards = await Promise.all(sharded.files.map((f) => openIndex(f)));
      const okUnsharded = sameAnswers(UNIVERSE, (k) => updated.probe(k), fresh);
      const okSharded = sameAnswers(UNIVERSE, (k) => shards[shardOfKey(k, 0, 3)]!.probe(k), fresh);
      const okEntries =
        updated.header.entries === model.numbers.size &&
        shards.reduce((a, s) => a + s.header.entries, 0) === model.numbers.size &&
        updated.header.optedOut === fresh.header.optedOut;
      // Refresh: the audience before, minus whoever is not in the audience after.
      const keep = new Set(after.split('\n'));
      const expected = before
        .split('\n')
        .filter((l) => l !== '' && keep.has(l))
        .map((l) => `${l}\n`)
        .join('');
      const results: boolean[] = [];
      for (const [mode, idx] of [
        ['log', index],
        ['scan', index],
        ['log', sharded.files[0]!],
        ['scan', sharded.files[2]!],
      ] as const) {
        const aud = writeText(dir, `a-${mode}.aud`, before);
        await refreshAudience(aud, idx, { mode });
        results.push(readFileSync(aud, 'utf8') === expected);
      }
      return okUnsharded && okSharded && okEntries && results.every(Boolean);
    });
    // Fails with the seed and path only: the counterexample holds phone numbers and user ids.
    const run = await fc.check(property, { numRuns: 60, interruptAfterTimeLimit: 90_000 });
    const why = run.failed
      ? `failed after ${run.numRuns} runs: replay with { seed: ${run.seed}, path: "${run.counterexamplePath}" } (the case is withheld)`
      : '';
    expect(run.failed, why).toBe(false);
    expect(run.numRuns).toBeGreaterThanOrEqual(20);
  }, 240_000);
});

describe('a large day of changes (deterministic)', () => {
  test('20,000 entries at load 0.7, 12,000 changes: deletes in full clusters, growth, moves; equal to a fresh build', async () => {
    const rand = prng(15);
    const N = 20_000;
    const U = 40_000;
    const big = (i: number) => `+447400${String(i).padStart(6, '0')}`;
    const users = Array.from({ length: 9_000 }, (_, i) => BigInt(i * 7919 + 1) * 2_147_483_659n);
    const rows: IndexRow[] = [];
    for (let i = 0; i < N; i++) {
      rows.push({
        phone: big(i * 2),
        userId: users[Math.floor(rand() * users.length)]!,
        optedOut: rand() < 0.1,
      });
    }
    const changes: Change[] = [];
    for (let i = 0; i < 12_000; i++) {
      const r = rand();
      const phone = big(Math.floor(rand() * U));
      if (r < 0.45)
        changes.push({
          op: 'add',
          phone,
          user: rand() < 0.3 ? BigInt(9_000_000 + i) : users[Math.floor(rand() * users.length)]!,
        });
      else if (r < 0.7) changes.push({ op: 'delete', phone });
      else if (r < 0.85) changes.push({ op: 'optout', phone });
      else changes.push({ op: 'optin', phone });
    }
    const dir = tempDir();
    const index = join(dir, 'big.idx');
    await writeIndexFile(writeText(dir, 'big.csv', csvOf(rows)), index, { withSha256: true });
    const model = new Model(rows);
    model.apply(changes);
    const report = await applyChanges(index, writeText(dir, 'c.csv', changesCsv(changes)));
    expect(report.filesGrown).toEqual([index]);
    expect(report.entries).toBe(model.numbers.size);
    const updated = await openIndex(index);
    expect(updated.header.generation).toBe(1);
    expect(updated.header.entries / updated.header.capacity).toBeLessThanOrEqual(0.7);
    const fresh = (await buildIndexFromRows(model.rows())).reader;
    let differ = 0;
    for (let i = 0; i < U; i++) {
      const key = keyOf(big(i));
      const x = updated.probe(key);
      const y = fresh.probe(key);
      if (
        JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)) !==
        JSON.stringify(y, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))
      )
        differ++;
    }
    expect(differ, 'phones answered otherwise than by a fresh build').toBe(0);
    expect(updated.header.neverMatchable).toBe(fresh.header.neverMatchable);
    // The SHA-256 section was rebuilt: every number present is found by its digest, no other.
    const { hashPhone } = await import('@rollcall/phone');
    let shaWrong = 0;
    for (let i = 0; i < U; i += 7) {
      const key = keyOf(big(i));
      const found = updated.probeSha256(hashPhone(key, 'meta'), 'meta');
      if ((found === key) !== model.numbers.has(big(i))) shaWrong++;
    }
    expect(shaWrong).toBe(0);
  }, 120_000);
});
