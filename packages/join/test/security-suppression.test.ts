/**
 * The minimum audience cannot be sidestepped through the library: below the floor, nothing a caller
 * can observe (result, report, progress callbacks, rejects file) depends on which uploaded numbers
 * are on the platform; and the floor cannot be switched off.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes } from '@rollcall/errors';
import { buildIndexFromRows } from '@rollcall/index';
import { normalizePhoneReference } from '@rollcall/phone';
import fc from 'fast-check';
import { parsePhoneNumber } from 'libphonenumber-js/max';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GENERATOR_COUNTRIES, prng, randomE164 } from '../../../fixtures/generate.js';
import { createMatcher, type Matcher, type MatchOptions } from '../src/index.js';

const JUNK = ['', 'N/A', '12', '+999 123 4567', "'07400123456", '=1+1'];

/** Platform members, and for each a valid stranger of the same region, length and first digits. */
interface World {
  members: string[];
  strangers: string[];
}

let matcher: Matcher;
let world: World;

beforeAll(async () => {
  const rand = prng(99);
  const phones = new Set<string>();
  while (phones.size < 400) {
    const country = GENERATOR_COUNTRIES[Math.floor(rand() * GENERATOR_COUNTRIES.length)]!;
    const p = randomE164(rand, country);
    if (normalizePhoneReference(p, { defaultCountry: 'GB' }).ok) phones.add(p);
  }
  const members = [...phones];
  const strangers: string[] = [];
  const kept: string[] = [];
  for (const m of members) {
    for (let n = 1; n < 1000; n++) {
      const s = `${m.slice(0, -3)}${String((Number(m.slice(-3)) + n) % 1000).padStart(3, '0')}`;
      const r = normalizePhoneReference(s, { defaultCountry: 'GB' });
      if (
        r.ok &&
        r.e164 === s &&
        !phones.has(s) &&
        parsePhoneNumber(s).country === parsePhoneNumber(m).country
      ) {
        kept.push(m);
        strangers.push(s);
        break;
      }
    }
  }
  world = { members: kept, strangers };
  // Some members opt out, and some users own two numbers: both are withheld facts.
  const { reader } = await buildIndexFromRows(
    kept.map((phone, i) => ({ phone, userId: BigInt(1 + (i % 350)), optedOut: i % 7 === 0 })),
  );
  matcher = await createMatcher({ index: reader, threads: 2 });
});

afterAll(async () => {
  await matcher?.close();
  for (const tag of ['a', 'b', 'c', 'd']) rmSync(rejectsPath(tag), { force: true });
});

function rejectsPath(tag: string): string {
  return join(tmpdir(), `rollcall-suppression-${process.pid}-${tag}.csv`);
}

/** Everything a caller of `match` can observe, timings aside. */
async function observe(cells: string[], options: Partial<MatchOptions>, tag: string) {
  const progress: unknown[] = [];
  const rejects = rejectsPath(tag);
  const { audience, report } = await matcher.match({
    upload: cells,
    defaultCountry: 'GB',
    rejects,
    onProgress: (p) => progress.push({ ...p }),
    // Hundreds of different uploads: this test is about the floor, not the daily budget.
    privacy: { maxQuestionsPerDay: 1_000_000, maxQueriesPerDay: 1_000_000 },
    ...options,
  });
  const { timings_ms: _t, rows_per_second: _r, ...rest } = report;
  return { audience, report: rest, progress, rejects: readFileSync(rejects, 'utf8') };
}

describe('below the floor, members and strangers are indistinguishable through the library', () => {
  test('random uploads of k members vs k strangers (+ junk, repeats), floor above k: identical observations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.nat(world.members.length - 1), { minLength: 1, maxLength: 60 }),
        fc.array(fc.constantFrom(...JUNK), { maxLength: 10 }),
        fc.integer({ min: 1, max: 32 }),
        async (picks, junk, batchSize) => {
          const repeat = picks.slice(0, 3);
          const members = [...picks, ...repeat].map((i) => world.members[i]!);
          const strangers = [...picks, ...repeat].map((i) => world.strangers[i]!);
          // The floor moves by a secret offset of up to ±25%: at 2k + 2 it stays above k members.
          const options = { minAudience: 2 * picks.length + 2, batchSize };
          const a = await observe([...members, ...junk], options, 'a');
          const b = await observe([...strangers, ...junk], options, 'b');
          expect(a.audience).toBeNull();
          expect(a.report.suppressed).toBe(true);
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 60, interruptAfterTimeLimit: 10_000 },
    );
  });

  test('at or above the floor the same uploads do differ: the test above would see a leak', async () => {
    const picks = [0, 1, 2, 3, 4, 5, 6, 7];
    const members = picks.map((i) => world.members[i]!);
    const strangers = picks.map((i) => world.strangers[i]!);
    const a = await observe(members, { minAudience: 1 }, 'c');
    const b = await observe(strangers, { minAudience: 1 }, 'd');
    expect(a.report.suppressed).toBe(false);
    expect(b.report).not.toEqual(a.report);
  });

  test('the floor cannot be switched off: 0, negatives, fractions, NaN, Infinity and strings are refused', async () => {
    for (const minAudience of [
      0,
      -1,
      0.5,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '100' as unknown as number,
    ]) {
      await expect(
        matcher.match({ upload: [world.members[0]!], defaultCountry: 'GB', minAudience }),
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    }
  });
});
